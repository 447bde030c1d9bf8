//go:build integration && kyverno

package integration

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	promoteregistry "github.com/promote-dev/promote/promote/registry"
)

// kyvernoReport is the part of `kyverno apply --policy-report
// --output-format json` the tests read.
type kyvernoReport struct {
	Summary struct{ Pass, Fail, Warn, Error, Skip int } `json:"summary"`
	Results []struct {
		Policy, Rule, Result, Message string
		Resources                     []struct{ Name string } `json:"resources"`
	} `json:"results"`
}

// kyvernoApply runs kyverno apply on policy against every pod in pods
// (offline unless extra says otherwise) and returns its policy report.
func (a *admissionWorld) kyvernoApply(kyverno, policy, pods string, extra ...string) kyvernoReport {
	a.p.t.Helper()
	args := append([]string{"apply", policy, "--resource", pods, "--policy-report", "--output-format", "json", "--remove-color"}, extra...)
	out, errOut, code := run(a.p.t.Context(), a.p.dir, toolEnv(a.p.home), kyverno, args...)
	var rep kyvernoReport
	start := strings.Index(out, "{")
	// exit 1 says some rule failed; the report says which.
	if (code != 0 && code != 1) || start < 0 || json.Unmarshal([]byte(out[start:]), &rep) != nil {
		a.p.t.Fatalf("kyverno %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return rep
}

// failed is, per pod, the rules that failed; a rule with an error fails
// the test.
func (a *admissionWorld) failed(rep kyvernoReport) map[string][]string {
	a.p.t.Helper()
	out := map[string][]string{}
	for _, r := range rep.Results {
		for _, res := range r.Resources {
			switch r.Result {
			case "fail":
				out[res.Name] = append(out[res.Name], r.Rule)
			case "pass":
			default:
				a.p.t.Errorf("pod %s, rule %s: %s: %s", res.Name, r.Rule, r.Result, r.Message)
			}
		}
	}
	return out
}

// The rule each denied pod breaks, in Kyverno's exported images policy.
var kyvernoRule = map[string]string{
	"tag-only": "digest", "other-registry": "repository", "moving-tag": "moving-tag", "revoked": "revoked",
	"init-tag-only": "digest", "ephemeral-revoked": "revoked", "ephemeral-registry": "repository",
	"unpromoted-app": "repository", "nested-path": "repository",
}

// The Kyverno CLI (kyverno apply, v1.19.1) runs the exported images
// ClusterPolicy offline against the pods gator judges: a prod image by
// digest is allowed; a tag-only reference, another registry, a moving tag
// and a revoked digest are each denied by their rule, in every kind of
// container.
func TestKyvernoExportImagesPolicy(t *testing.T) {
	t.Parallel()
	kyverno := admissionTool(t, "kyverno")
	a := newAdmissionWorld(t)
	key, _ := a.p.keyPair()
	dir := a.export("kyverno", "--attest-pub", strings.TrimSuffix(key, ".key")+".pub")
	pods := a.writePods(dir)
	rep := a.kyvernoApply(kyverno, filepath.Join(dir, "kyverno", "clusterpolicy-promote-prod-images.yaml"), pods)
	failed := a.failed(rep)
	for _, name := range slices.Sorted(maps.Keys(a.pods)) {
		got := failed[name]
		if allowedPods[name] {
			if len(got) > 0 {
				t.Errorf("pod %s: denied by %v, want allowed", name, got)
			}
			continue
		}
		if !slices.Equal(got, []string{kyvernoRule[name]}) {
			t.Errorf("pod %s: denied by %v, want by rule %s alone", name, got, kyvernoRule[name])
		}
	}
	if rep.Summary.Fail != len(kyvernoRule) {
		t.Errorf("kyverno summary %+v: want %d failures", rep.Summary, len(kyvernoRule))
	}
}

// The exported attestation ClusterPolicy, run by kyverno apply --registry
// against the real registry: an image promote promoted into prod (with its
// signed promotion attestation) is allowed; images copied into the prod
// repository without promote are denied: without an attestation, with a
// promotion attestation for test, and with one for prod signed by another
// key.
func TestKyvernoExportAttestationPolicy(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "") // for attachPromotion's signer: cosign's keys here have an empty password
	kyverno := admissionTool(t, "kyverno")
	p := newPipeline(t)
	key, _ := p.keyPair()
	otherKey, _ := p.namedKeyPair("other")
	p.config = p.withProdPolicy("attest", "attest: {key: "+key+"}")
	a := &admissionWorld{p: p, prodRepo: p.repo("prod", "web")}
	dev := p.repo("dev", "web")
	a.good = p.pushImage(dev+":1.0.0", image{Version: "1.0.0"})
	stray := p.pushImage(dev+":3.0.0", image{Version: "3.0.0"})
	p.mustPromote(0, "to", "test", "web:1.0.0")
	p.mustPromote(0, "to", "prod", "web")
	p.crane("copy", dev+"@"+stray, a.prodRepo+":3.0.0")
	client, err := promoteregistry.New(promoteregistry.Options{Insecure: []string{p.A.Host, p.B.Host}})
	if err != nil {
		t.Fatal(err)
	}
	forTest, otherSigner := p.pushImage(dev+":4.0.0", image{Version: "4.0.0"}), p.pushImage(dev+":5.0.0", image{Version: "5.0.0"})
	p.crane("copy", dev+"@"+forTest, a.prodRepo+":4.0.0")
	p.crane("copy", dev+"@"+otherSigner, a.prodRepo+":5.0.0")
	p.attachPromotion(attestRegistry{client}, key, "test", a.prodRepo, forTest)
	p.attachPromotion(attestRegistry{client}, otherKey, "prod", a.prodRepo, otherSigner)
	pod := func(name, image string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n  containers:\n    - name: c\n      image: " + image + "\n"
	}
	a.pods = map[string]string{
		"promoted":   pod("promoted", a.prodRepo+"@"+a.good),
		"unpromoted": pod("unpromoted", a.prodRepo+"@"+stray),
		"for-test":   pod("for-test", a.prodRepo+"@"+forTest),
		"other-key":  pod("other-key", a.prodRepo+"@"+otherSigner),
	}
	dir := a.export("kyverno")
	pods := a.writePods(dir)
	rep := a.kyvernoApply(kyverno, filepath.Join(dir, "kyverno", "clusterpolicy-promote-prod-attestation.yaml"), pods, "--registry")
	failed := a.failed(rep)
	for name := range a.pods {
		rules := slices.Compact(failed[name]) // kyverno reports the attestation and the image
		switch {
		case name == "promoted" && len(rules) > 0:
			t.Errorf("pod %s: denied by %v, want allowed", name, rules)
		case name != "promoted" && !slices.Equal(rules, []string{"promotion-attestation"}):
			t.Errorf("pod %s: denied by %v, want by promotion-attestation", name, rules)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("kyverno's report: %+v", rep)
	}
}
