//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
)

// On ECR (the in-repo emulator, reached by the real binary through the AWS
// SDK): an image promoted clean, whose findings in the target repository
// gain a critical one after promotion (enhanced scanning re-scans), is
// newly vulnerable in the report, and --fail-on vulnerable exits 3.
func TestReportNewlyVulnerableOnECR(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1"})
	srv.SetEnv(t) // the binary inherits the SDK's endpoint and credentials
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, r := range []string{"dev/web", "test/web"} {
		cfg := ecremu.RepositoryConfig{}
		if r == "test/web" {
			cfg.Mutability = "IMMUTABLE"
		}
		if err := srv.Default().CreateRepository(r, cfg); err != nil {
			t.Fatal(err)
		}
	}
	p := newPipeline(t)
	p.env = append(p.env, "PROMOTE_INSECURE_REGISTRY="+host)
	p.config = filepath.Join(p.dir, "ecr", "environments.yaml")
	if err := os.MkdirAll(filepath.Dir(p.config), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`version: 1
ledger: %s
environments:
  - name: dev
    repository: %[2]s/dev/{app}
    tags: mutable
    aws: {region: eu-central-1, registryId: "%[3]s"}
  - name: test
    from: dev
    repository: %[2]s/test/{app}
    tags: immutable
    aws: {region: eu-central-1, registryId: "%[3]s"}
    gates: [scan: {sources: [ecr], maxSeverity: high, ecrWait: 30s}]
`, p.ledger, host, ecremu.DefaultAccount)
	if err := os.WriteFile(p.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	password, _ := srv.IssueToken(ecremu.DefaultAccount)
	ref, err := name.ParseReference(host+"/dev/web:1.0", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img := regtest.Image(t, 2, regtest.Labels("1.0"), "1000")
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: password})); err != nil {
		t.Fatalf("pushing to the ECR emulator: %v", err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	medium := ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0002", Severity: "MEDIUM"}}}
	if err := srv.Default().SetScan("dev/web", d.String(), medium); err != nil {
		t.Fatal(err)
	}
	p.mustPromote(0, "to", "test", "web:1.0")
	if err := srv.Default().SetScan("test/web", d.String(), medium); err != nil {
		t.Fatal(err)
	}
	if r := p.mustPromote(0, "report"); !strings.Contains(r.Stdout, "test  GREEN") {
		t.Fatalf("clean at promotion and now: green\n%s", r)
	}

	if err := srv.Default().SetScan("test/web", d.String(), ecremu.Scan{Findings: []ecremu.Finding{
		{Name: "CVE-2026-0002", Severity: "MEDIUM"}, {Name: "CVE-2026-7777", Severity: "CRITICAL"}}}); err != nil {
		t.Fatal(err)
	}
	r := p.mustPromote(3, "report", "--fail-on", "vulnerable")
	for _, want := range []string{"test  RED", "VULNERABLE: newly vulnerable: it passed test's scan gate when promoted", "CVE-2026-7777 (CRITICAL)", "rebuild: web"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r)
		}
	}
}
