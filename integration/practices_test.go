//go:build integration

package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// The best-practice gates through the real binary, on crane-built images.
func TestBestPracticeGates(t *testing.T) {
	p := newPipeline(t)
	cfg := p.writeConfig(filepath.Join(p.dir, "practices.yaml"),
		[]string{"platforms: {require: [linux/amd64, linux/arm64]}", "noSecretsInEnv: {}", "maxAge: {max: 30d}"}, nil)
	outcomes := func(ref string) (cmdResult, map[string]gateOutcome) {
		r := p.promoteWith(cfg, "--output", "json", "to", "test", ref)
		if r.Code != 3 {
			t.Fatalf("expected a rejection (exit 3):\n%s", r)
		}
		var res promotion
		decodeResult(t, parseDocument(t, r), &res)
		out := map[string]gateOutcome{}
		for _, g := range res.Gates {
			out[g.Name] = g
		}
		return r, out
	}

	p.pushIndex(p.repo("dev", "multi")+":1.0", image{})
	_, g := outcomes("multi:1.0")
	if g["platforms"].Verdict != "pass" || g["noSecretsInEnv"].Verdict != "pass" {
		t.Errorf("a clean two-platform index passes platforms and noSecretsInEnv: %+v", g)
	}
	if g["maxAge"].Verdict != "fail" || !strings.Contains(g["maxAge"].Reason, "created") {
		t.Errorf("crane sets no build time, so maxAge cannot prove the age: %+v", g["maxAge"])
	}

	const secret = "AKIAIOSFODNN7EXAMPLE"
	ref := p.repo("dev", "leaky") + ":1.0"
	p.pushImage(ref, image{})
	p.crane("mutate", ref, "--env", "AWS_ACCESS_KEY_ID="+secret, "--env", "DB_PASSWORD=hunter2", "-t", ref)
	r, g := outcomes("leaky:1.0")
	if g["platforms"].Verdict != "fail" || !strings.Contains(g["platforms"].Reason, "missing platform linux/arm64") {
		t.Errorf("a single amd64 image lacks arm64: %+v", g["platforms"])
	}
	s := g["noSecretsInEnv"]
	if s.Verdict != "fail" || !strings.Contains(s.Reason, "env AWS_ACCESS_KEY_ID (aws-access-key-id)") || !strings.Contains(s.Reason, "env DB_PASSWORD (secret-name)") {
		t.Errorf("secrets in Env are named: %+v", s)
	}
	hist := p.promoteWith(cfg, "history", "leaky", "--output", "json")
	for _, out := range []string{r.Stdout, r.Stderr, hist.Stdout} {
		if strings.Contains(out, secret) || strings.Contains(out, "hunter2") {
			t.Fatalf("a secret value reached the output or the ledger:\n%s", out)
		}
	}
}
