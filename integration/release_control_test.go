//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withProdPolicy writes the pipeline's config with extra lines for prod
// (release policies) and returns its path.
func (p *pipeline) withProdPolicy(name string, prodLines ...string) string {
	p.t.Helper()
	path := p.writeConfig(filepath.Join(p.dir, name, "environments.yaml"), []string{}, []string{})
	b, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	extra := ""
	for _, l := range prodLines {
		extra += "    " + l + "\n"
	}
	if err := os.WriteFile(path, append(b, extra...), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// refused runs promote with config and expects exit 3 with want in the
// error.
func (p *pipeline) refused(config, want string, args ...string) {
	p.t.Helper()
	r := p.promoteWith(config, args...)
	if r.Code != 3 || !strings.Contains(r.Stderr, want) {
		p.t.Fatalf("expected exit 3 saying %q:\n%s", want, r)
	}
}

// Each release control, with the real binary and registry, refuses and then
// passes as its condition changes, each refusal one ledger record with the
// reason: a soak, a denied date, a freeze (with and without break-glass) and
// a revocation (promotion and rollback).
func TestReleaseControlsRefuseThenPass(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev := p.repo("dev", "web")
	d1 := p.pushImage(dev+":1.0.0", image{Version: "1.0.0"})
	p.pushImage(dev+":2.0.0", image{Version: "2.0.0"})
	plain := p.withProdPolicy("plain")
	p.mustPromote(0, "--config", plain, "to", "test", "web:1.0.0")

	// soak: test has run 1.0.0 for well under a minute
	soak := p.withProdPolicy("soak", "soak: 3s")
	p.refused(soak, "release policy soak: prod: "+d1+" has been current in test since", "to", "prod", "web")
	time.Sleep(3 * time.Second)
	p.mustPromote(0, "--config", soak, "to", "prod", "web")

	// a denied date: today, in UTC
	today := time.Now().UTC().Format("2006-01-02")
	closed := p.withProdPolicy("closed", "windows: [{deny: '"+today+"'}]", "breakGlass: {approvals: 0}")
	p.mustPromote(0, "--config", plain, "to", "test", "web:2.0.0")
	p.refused(closed, "release policy window: prod: ", "to", "prod", "web")

	// a freeze, then break-glass where prod allows it
	p.mustPromote(0, "--config", plain, "freeze", "prod", "--reason", "INC-1")
	p.refused(plain, "release policy freeze: prod is frozen since", "to", "prod", "web")
	p.refused(plain, "prod does not allow break-glass", "to", "prod", "web", "--break-glass", "hotfix")
	r := p.promoteWith(closed, "to", "prod", "web", "--break-glass", "INC-1 hotfix")
	if r.Code != 0 || !strings.Contains(r.Stdout, "BREAK-GLASS  INC-1 hotfix") {
		t.Fatalf("break-glass should pass the freeze and the denied date, loudly:\n%s", r)
	}
	p.mustPromote(0, "--config", plain, "unfreeze", "prod")

	// a revocation: the rollback to it and a promotion of it are refused
	p.mustPromote(0, "--config", plain, "revoke", "web@"+d1, "--reason", "CVE-2026-1")
	p.refused(plain, "release policy revocation: web@"+d1+" is revoked", "rollback", "prod", "web")
	p.mustPromote(0, "--config", plain, "unrevoke", "web@"+d1, "--reason", "not affected")
	p.mustPromote(0, "--config", plain, "rollback", "prod", "web", "--reason", "after all")

	var rejected []string
	for _, rec := range p.history("web", "--env", "prod") {
		if rec.Kind == "rejected" {
			rejected = append(rejected, rec.Rejection)
		}
	}
	if len(rejected) != 5 {
		t.Fatalf("five refusals, each one rejected record: %q", rejected)
	}
	for _, want := range []string{"release policy soak", "release policy window", "release policy freeze", "does not allow break-glass", "release policy revocation"} {
		found := false
		for _, r := range rejected {
			found = found || strings.Contains(r, want)
		}
		if !found {
			t.Errorf("no rejected record says %q: %q", want, rejected)
		}
	}
	p.verifyLedger()
}
