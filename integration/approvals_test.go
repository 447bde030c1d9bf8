//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// approvalType is the approval predicate type (promote.ApprovalPredicateType),
// written out so that a renamed type breaks this suite.
const approvalType = "https://promote.dev/attestation/approval/v1"

// approveWithCosign attaches an approval of repo@digest made with cosign
// alone: v2 (`--tlog-upload=false`: a legacy .att tag) or v3 (a signing
// config without services: a bundle referrer), of the predicate given.
func (p *pipeline) approveWithCosign(v3 bool, key, repo, digest string, predicate map[string]string) {
	p.t.Helper()
	b, err := json.Marshal(predicate)
	if err != nil {
		p.t.Fatal(err)
	}
	f, err := os.CreateTemp(p.dir, "approval-*.json")
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		p.t.Fatal(err)
	}
	f.Close()
	ref := repo + "@" + digest
	var out, errOut string
	var code int
	if v3 {
		out, errOut, code = p.cosign3("attest", "--key", key, "--type", approvalType, "--predicate", f.Name(), "--signing-config", p.offlineSigningConfig(),
			"--trusted-root", filepath.Join(signedRepoRoot(p.t), "testdata", "signed", "trusted_root.json"), "--allow-http-registry", "--yes", ref)
	} else {
		out, errOut, code = p.cosign("attest", "--key", key, "--type", approvalType, "--predicate", f.Name(), "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	}
	if code != 0 {
		p.t.Fatalf("cosign attest --type %s %s (v3 %v): exit %d\n%s%s", approvalType, ref, v3, code, out, errOut)
	}
}

// approvalIn is ENVIRONMENT/APPROVER of the approval statement in cosign
// verify-attestation's output, or "".
func approvalIn(t *testing.T, out string) string {
	t.Helper()
	if p, ok := cosignPredicate(t, out, approvalType); ok {
		return p["environment"] + "/" + p["approver"]
	}
	return ""
}

// policy returns the release policy verdict called name from a JSON
// result's policies, or nil.
func policy(raw json.RawMessage, name string) *gateOutcome {
	var res struct {
		Policies []gateOutcome `json:"policies"`
	}
	if json.Unmarshal(raw, &res) != nil {
		return nil
	}
	return gate(res.Policies, name)
}

// Approvals for prod, made with cosign v2 and v3 alone and with promote
// approve, on a real registry: alice's counts, her second does not, nor
// carol's for test or her expired one, bob's for another digest or the
// stranger's; prod refuses (exit 3, one rejected record) until bob
// approves with promote approve, whose approval cosign verify-attestation
// accepts, and then the promotion passes with the verdict in its record.
func TestApprovalsWithCosignAndPromoteApprove(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	keys := map[string][2]string{}
	for _, who := range []string{"alice", "bob", "carol", "stranger"} {
		k, pub := p.namedKeyPair(who)
		keys[who] = [2]string{k, pub}
	}
	dir := filepath.Join(p.dir, "approvals-config")
	for _, who := range []string{"alice", "bob", "carol"} {
		b, err := os.ReadFile(keys[who][1])
		if err != nil {
			t.Fatal(err)
		}
		signedWriteFile(t, filepath.Join(dir, "keys", who+".pub"), string(b))
	}
	cfg := p.writeConfig(filepath.Join(dir, "environments.yaml"), []string{}, []string{})
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	signedWriteFile(t, cfg, string(b)+"    approvals: {required: 2, keys: [keys/alice.pub, keys/bob.pub, keys/carol.pub], expires: 72h}\n")
	p.config = cfg

	dev, test := p.repo("dev", "web"), p.repo("test", "web")
	d := p.pushImage(dev+":1.0.0", image{Version: "1.0.0"})
	d2 := p.pushImage(dev+":2.0.0", image{Version: "2.0.0"})
	p.mustPromote(0, "to", "test", "web:2.0.0")
	p.mustPromote(0, "to", "test", "web:1.0.0") // test runs d: what would enter prod next

	now := time.Now().UTC()
	approval := func(env, who string, at time.Time) map[string]string {
		return map[string]string{"environment": env, "app": "web", "approver": who, "reason": "reviewed", "time": at.Format(time.RFC3339)}
	}
	p.approveWithCosign(false, keys["alice"][0], test, d, approval("prod", "alice", now.Add(-time.Minute)))      // counts
	p.approveWithCosign(true, keys["alice"][0], test, d, approval("prod", "alice-again", now))                   // the same key again
	p.approveWithCosign(false, keys["carol"][0], test, d, approval("test", "carol-test", now))                   // another environment
	p.approveWithCosign(true, keys["carol"][0], test, d, approval("prod", "carol-old", now.Add(-100*time.Hour))) // expired
	p.approveWithCosign(false, keys["stranger"][0], test, d, approval("prod", "stranger", now))                  // an unlisted key
	p.approveWithCosign(true, keys["bob"][0], test, d2, approval("prod", "bob-d2", now))                         // another digest

	r, doc := p.promoteJSON("to", "prod", "web@"+d)
	if r.Code != 3 {
		t.Fatalf("prod should refuse with one approval of two (exit 3):\n%s", r)
	}
	v := policy(doc.Result, "approvals")
	if v == nil || v.Verdict != "fail" {
		t.Fatalf("the result should carry the approvals verdict, failed:\n%s", r)
	}
	if !strings.Contains(doc.Error, "1 of 2 required approvals of web@"+d+": approved by alice (keys/alice.pub") ||
		!strings.Contains(doc.Error, "1 missing") || !strings.Contains(doc.Error, "promote approve prod web@"+d+" --key FILE --reason TEXT") {
		t.Errorf("the refusal should say who approved, how many are missing and how to approve:\n%s", doc.Error)
	}
	why := map[string]string{}
	notCounted, _ := v.Evidence["notCounted"].([]any)
	for _, n := range notCounted {
		m := n.(map[string]any)
		who, _ := m["approver"].(string)
		if who == "" {
			who = "unverified"
		}
		why[who], _ = m["why"].(string)
	}
	for who, want := range map[string]string{
		"alice-again": "a second approval by the same signer",
		"carol-test":  `it approves environment "test", not prod`,
		"carol-old":   "expired at",
		"unverified":  "signature does not verify with any key",
	} {
		if !strings.Contains(why[who], want) {
			t.Errorf("%s's approval should not count (%s), evidence says %q; all: %v", who, want, why[who], why)
		}
	}
	if len(why) != 4 {
		t.Errorf("exactly four approvals should not count (bob's of another digest is not even read): %v", why)
	}
	recs := p.history("web", "--env", "prod")
	if len(recs) != 1 || recs[0].Kind != "rejected" || !strings.Contains(recs[0].Rejection, "release policy approvals") {
		t.Fatalf("the refusal should be one rejected record with the reason, got %+v", recs)
	}

	r, doc = p.promoteJSON("approve", "prod", "web@"+d, "--key", keys["bob"][0], "--reason", "CAB-42", "--approver", "bob")
	if r.Code != 0 {
		t.Fatalf("promote approve:\n%s", r)
	}
	var ap struct{ Attestation, Repository string }
	decodeResult(t, doc, &ap)
	if ap.Repository != test {
		t.Errorf("the approval should be attached in %s, the repository prod takes from, not %s", test, ap.Repository)
	}
	for _, v2 := range []bool{false, true} {
		args := []string{"verify-attestation", "--key", keys["bob"][1], "--type", approvalType, "--insecure-ignore-tlog", "--allow-http-registry"}
		if v2 {
			args = append(args, "--trusted-root", filepath.Join(signedRepoRoot(t), "testdata", "signed", "trusted_root.json"))
		}
		args = append(args, test+"@"+d)
		var out, errOut string
		var code int
		if v2 {
			out, errOut, code = p.cosign(args...)
		} else {
			out, errOut, code = p.cosign3(args...)
		}
		if code != 0 || approvalIn(t, out) != "prod/bob" {
			t.Errorf("cosign verify-attestation (v2 %v) should accept the approval promote approve made: exit %d\n%s%s", v2, code, out, errOut)
		}
	}

	r = p.promote("status", "web")
	if r.Code != 0 || !strings.Contains(r.Stdout, fmt.Sprintf("prod approvals of %s: 2 of 2 (alice, signed by keys/alice.pub", d[:19])) ||
		!strings.Contains(r.Stdout, "; bob, signed by keys/bob.pub") || !strings.Contains(r.Stdout, "); 4 not counted; approved") {
		t.Errorf("status should show prod's approvals of the digest test runs:\n%s", r)
	}

	r, doc = p.promoteJSON("to", "prod", "web@"+d)
	if r.Code != 0 {
		t.Fatalf("two distinct approvers: prod should take it:\n%s", r)
	}
	var res struct {
		Record struct {
			Policies []gateOutcome `json:"policies"`
		} `json:"record"`
	}
	decodeResult(t, doc, &res)
	if g := gate(res.Record.Policies, "approvals"); g == nil || g.Verdict != "pass" || !strings.Contains(g.Reason, "2 of 2 required approvals") {
		t.Errorf("the promotion record's policies should show the approvals verdict, got %+v", res.Record.Policies)
	}
	if kinds := p.history("web", "--env", "prod"); len(kinds) != 2 {
		t.Errorf("prod should have the rejection and the promotion, got %+v", kinds)
	}
	p.verifyLedger()
}
