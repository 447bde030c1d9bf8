//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/promote-dev/promote/gates"
)

// opaPath finds the OPA CLI (pinned in the Makefile, installed by make tools).
func opaPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("opa")
	if err != nil {
		t.Fatalf("opa not found in PATH: run `make tools`, which installs it into .tools/bin, and put .tools/bin on PATH")
	}
	return bin
}

// opaVerdict is what opa eval says of query on input: the deny messages,
// sorted, or the error it printed.
type opaVerdict struct {
	Denies []string
	Error  string
}

// opaEval runs the real OPA CLI, with strict built-in errors as the gate
// evaluates, on the policy and the input file.
func opaEval(t *testing.T, policy, input, query string) opaVerdict {
	t.Helper()
	out, errOut, code := run(context.Background(), t.TempDir(), nil, opaPath(t),
		"eval", "--strict-builtin-errors", "--format", "json", "-d", policy, "-i", input, query)
	var res struct {
		Result []struct {
			Expressions []struct {
				Value []any `json:"value"`
			} `json:"expressions"`
		} `json:"result"`
		Errors []struct {
			Code     string `json:"code"`
			Message  string `json:"message"`
			Location struct {
				File string `json:"file"`
				Row  int    `json:"row"`
			} `json:"location"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("opa eval printed no JSON (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		return opaVerdict{Error: filepath.Base(e.Location.File) + ":" + itoa(e.Location.Row) + ": " + e.Code}
	}
	if code != 0 || len(res.Result) != 1 {
		t.Fatalf("opa eval: exit %d, %d results\n%s%s", code, len(res.Result), out, errOut)
	}
	v := opaVerdict{Denies: []string{}}
	for _, m := range res.Result[0].Expressions[0].Value {
		s, ok := m.(string)
		if !ok {
			b, _ := json.Marshal(m)
			s = string(b)
		}
		v.Denies = append(v.Denies, s)
	}
	sort.Strings(v.Denies)
	return v
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// gateVerdict is what the policy gate says of the document at input.
func gateVerdict(t *testing.T, g gates.Gate, input string) opaVerdict {
	t.Helper()
	doc, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	v, err := g.Evaluate(context.Background(), &gates.Subject{Evidence: doc})
	if err != nil {
		// FILE:LINE: code, as opa reports it
		msg := err.Error()
		i := strings.Index(msg, filepath.Base(policyFile(t))+":")
		if i < 0 {
			t.Fatalf("the gate's error names no policy file and line: %v", err)
		}
		rest := msg[i:]
		parts := strings.SplitN(rest, ": ", 3)
		return opaVerdict{Error: parts[0] + ": " + parts[1]}
	}
	denies, _ := v.Evidence["denies"].([]string)
	if (len(denies) == 0) != v.Passed() {
		t.Fatalf("verdict %s with denies %v", v.Verdict, denies)
	}
	return opaVerdict{Denies: append([]string{}, denies...)}
}

func policyFile(t *testing.T) string {
	return filepath.Join(signedRepoRoot(t), "testdata", "policy", "prod.rego")
}

// Parity: for every evidence document of testdata/policy/evidence, the
// policy gate's verdict (the deny messages, or the error's file, line and
// code) equals what the OPA CLI's opa eval says on the same input and
// policy.
func TestPolicyGateParityWithOPA(t *testing.T) {
	t.Parallel()
	policy := policyFile(t)
	g, err := gates.NewPolicy(gates.PolicyConfig{Rego: []string{policy}, Query: "data.signature.deny"})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(signedRepoRoot(t), "testdata", "policy", "evidence", "*.json"))
	if err != nil || len(docs) < 8 {
		t.Fatalf("the evidence table is missing (%d documents): %v", len(docs), err)
	}
	var denied, errored int
	for _, doc := range docs {
		name := strings.TrimSuffix(filepath.Base(doc), ".json")
		gate, opa := gateVerdict(t, g, doc), opaEval(t, policy, doc, "data.signature.deny")
		if !reflect.DeepEqual(gate, opa) {
			t.Errorf("%s: the gate says %+v, opa eval says %+v", name, gate, opa)
		}
		if len(gate.Denies) > 0 {
			denied++
		}
		if gate.Error != "" {
			errored++
		}
	}
	if denied < 4 || errored < 1 {
		t.Errorf("the table should hold denials and errors: %d denied, %d errors", denied, errored)
	}
}

// One policy in both places (docs/policy.md): testdata/policy/prod.rego as
// promote's policy gate refuses an image running as root before it reaches
// prod, and passes a good one; cosign verify-attestation --policy, the
// same file, admits the good one on its signed promotion attestation, and
// refuses the root image promoted by a configuration without the gate,
// since that attestation carries the evidence document all the same. The
// gate's input and the attestation's predicate.evidence are one document:
// opa eval on the record's copy gives the gate's verdict.
func TestOnePolicyAtTheGateAndAtAdmission(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.namedKeyPair("promote")
	policy := policyFile(t)
	p.env = append(p.env, "PROMOTE_ATTEST_KEY_PASSWORD=")
	withGate := p.writeConfig(filepath.Join(p.dir, "gated", "environments.yaml"), nil,
		[]string{"signed: {keys: [" + pub + "]}", "policy: {rego: [" + policy + "], query: data.signature.deny}"})
	appendLines(t, withGate, "    attest: {key: "+key+"}\n")
	without := p.writeConfig(filepath.Join(p.dir, "plain", "environments.yaml"), nil, []string{"signed: {keys: [" + pub + "]}"})
	appendLines(t, without, "    attest: {key: "+key+"}\n")
	dev, prod := p.repo("dev", "web"), p.repo("prod", "web")

	// crane cannot set a creation time; an app built on a base made
	// yesterday carries the base's.
	base := p.repo("dev", "base") + ":1"
	p.pushBaseAt(base, time.Now().Add(-24*time.Hour))
	good := p.appOn(base, dev+":1.0.0", "1.0.0")
	p.sign(key, dev, good)
	if r := p.promoteWith(withGate, "to", "test", "web:1.0.0"); r.Code != 0 {
		t.Fatalf("promote to test:\n%s", r)
	}
	if r := p.promoteWith(withGate, "to", "prod", "web"); r.Code != 0 {
		t.Fatalf("the policy gate should pass a non-root, labelled, signed image that went through test:\n%s", r)
	}
	if got, code := p.verifyAttestation(false, pub, prod+"@"+good, "--policy", policy); code != 0 {
		t.Fatalf("cosign verify-attestation --policy prod.rego should admit what the gate passed: exit %d\n%s", code, got)
	}

	p.appOn(base, dev+":2.0.0", "2.0.0")
	p.crane("mutate", dev+":2.0.0", "--user", "root", "-t", dev+":2.0.0")
	root := p.digest(dev + ":2.0.0")
	p.sign(key, dev, root)
	if r := p.promoteWith(withGate, "to", "test", "web:2.0.0"); r.Code != 0 {
		t.Fatalf("promote to test:\n%s", r)
	}
	r := p.promoteWith(withGate, "to", "prod", "web")
	if r.Code != 3 || !strings.Contains(r.Stderr, `linux/amd64 runs as root (user "root")`) {
		t.Fatalf("the policy gate should refuse the root image (exit 3):\n%s", r)
	}
	if p.hasManifest(prod, root) {
		t.Fatalf("the refused digest was written to prod")
	}
	if r := p.promoteWith(without, "to", "prod", "web"); r.Code != 0 {
		t.Fatalf("without the gate the root image is promoted:\n%s", r)
	}
	got, code := p.verifyAttestation(false, pub, prod+"@"+root, "--policy", policy)
	if code == 0 || !strings.Contains(got, "1 validation errors occurred") {
		t.Fatalf("cosign verify-attestation --policy prod.rego should refuse the root image at admission (exit %d):\n%s", code, got)
	}

	// The refusal's record keeps the document the gate judged: opa eval on
	// it says what the gate said.
	var rejected *record
	for _, rec := range p.history("web", "--env", "prod") {
		if rec.Kind == "rejected" {
			rejected = &rec
		}
	}
	if rejected == nil || len(rejected.Evidence) == 0 {
		t.Fatalf("the refusal's record keeps no evidence document: %+v", rejected)
	}
	doc := filepath.Join(p.dir, "rejected-evidence.json")
	if err := os.WriteFile(doc, rejected.Evidence, 0o600); err != nil {
		t.Fatal(err)
	}
	if v := opaEval(t, policy, doc, "data.signature.deny"); !reflect.DeepEqual(v.Denies, []string{`linux/amd64 runs as root (user "root")`}) {
		t.Errorf("opa eval on the recorded document: %+v", v)
	}
}

func appendLines(t *testing.T, path, lines string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}
