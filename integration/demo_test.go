//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// make demo works as the README says (its two commands): both acts run to the end with the
// real binaries, and each refusal it shows happens with its exit code.
func TestDemoRuns(t *testing.T) {
	bin := filepath.Dir(os.Getenv("PROMOTE_BIN"))
	if _, err := os.Stat(filepath.Join(bin, "promote-demo")); err != nil {
		t.Fatalf("promote-demo is not built beside $PROMOTE_BIN (run make build): %v", err)
	}
	root := signedRepoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := append(os.Environ(), "BIN="+bin)
	out, errOut, code := run(ctx, root, env, filepath.Join(root, "scripts", "demo.sh"))
	all := out + errOut
	for _, db := range []string{"demo-ledger.db", "demo-ecr-ledger.db"} {
		collectFile("ledger", filepath.Join(root, ".promote", db))
		collectFile("ledger", filepath.Join(root, ".promote", db+"-wal"))
	}
	if code != 0 {
		t.Fatalf("make demo failed with exit %d:\n%s", code, all)
	}
	for _, want := range []string{
		"PASS signed", "PASS scan", "FAIL nonroot", "FAIL signed", "FAIL scan",
		"(exit 4)", "rolled back web in prod", "ledger ok:",
		"newest checkpoint signs 15, signature checked", "proven by the newest checkpoint, its signature checked",
		"demo-checkpoint.note (15): consistent: the log extends it",
		"/prod/promote-ledger:checkpoint-17 (17): consistent: the log extends it",
		"FAIL approvals: prod: 0 of 1 required approvals", "approved web@", "prod approvals of sha256:", "1 of 1 (alice, signed by testdata/demo/alice.pub",
		"FROZEN prod", "rolled back web in prod", "REVOKED web@", "FAIL freeze: prod is frozen since",
		"FAIL revocation: web@", "web runs a revoked digest in test", "UNFROZE prod",
		"PASS base: built on approved base", "STALE: built on a base with a newer image under its tag or version line, 20 days newer",
		"$ promote report --rebuild\nweb\n(exit 0)",
		"ACT 2", "IMMUTABLE_WITH_EXCLUSION(sha256-*,current)", "nothing to do: prod already holds",
		"wrote .promote/demo-policies/gatekeeper/constraint-promote-prod.yaml", "# ledger: checkpoint promote.demo/ledger, tree size",
		"    revoked:\n      - digest: sha256:", "wrote .promote/demo-policies/kyverno/clusterpolicy-promote-prod-attestation.yaml", "ignoreTlog: true",
		"wrote .promote/demo-policies/policy-controller/clusterimagepolicy-promote-prod.yaml",
		"identical: the same config and ledger give the same files",
		"PASS policy: data.signature.deny denies nothing (testdata/policy/prod.rego)",
		"attested  sha256:",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, all)
		}
	}
	page := filepath.Join(root, ".promote", "demo-report.html")
	if seen := openReportPage(t, page, os.Getenv("PROMOTE_REPORT_SCREENSHOT")); seen.Cells["web/prod"] == "" {
		t.Errorf("the demo's report page has no cell for web in prod: %v", seen.Cells)
	}
	// three gates, approvals, a freeze, a revocation, and status --fail-on revoked
	if n := strings.Count(all, "\n(exit 3)\n"); n != 7 {
		t.Errorf("the demo shows seven refusals by gates and release policies, saw %d", n)
	}
}
