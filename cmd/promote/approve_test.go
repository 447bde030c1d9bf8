package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote"
)

// withApprovals gives the harness's test environment an approvals block
// listing the fixture key testdata/attest/cosign.pub (its private half,
// cosign.key, has the password promote-test).
func (c *harness) withApprovals(required int) {
	c.t.Helper()
	b, err := os.ReadFile(c.config)
	require.NoError(c.t, err)
	pub, err := filepath.Abs(filepath.Join("..", "..", "testdata", "attest", "cosign.pub"))
	require.NoError(c.t, err)
	cfg := strings.Replace(string(b), "    gates:\n      - nonroot: {}\n",
		"    gates:\n      - nonroot: {}\n    approvals: {required: "+string(rune('0'+required))+", keys: ["+pub+"], expires: 3d}\n", 1)
	require.NoError(c.t, os.WriteFile(c.config, []byte(cfg), 0o600))
}

// promote approve signs and attaches an approval that the promotion then
// counts; text and JSON say what was attached; what cannot count is a
// usage error (exit 2); status shows the approvals a digest still needs.
func TestCLIApprove(t *testing.T) {
	c := newCLI(t)
	c.withApprovals(1)
	key := filepath.Join("..", "..", "testdata", "attest", "cosign.key")
	t.Setenv("COSIGN_PASSWORD", "promote-test")
	d := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000")).String()

	code, _, stderr := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitRejected, code, stderr)
	assert.Contains(t, stderr, "release policy approvals: test: 0 of 1 required approvals of web@"+d+": nobody has approved; 1 missing")
	assert.Contains(t, stderr, "promote approve test web@"+d+" --key FILE --reason TEXT")

	code, out, stderr := c.run("approve", "test", "web@"+d, "--key", key, "--reason", "CAB-7", "--approver", "alice")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "approved web@"+d[:19]+" for test\n  approver     alice (key ")
	assert.Contains(t, out, "  attached to  "+c.reg.Host+"/dev/web@"+d)
	assert.NotContains(t, out+stderr, "promote-test", "no password in the output")

	code, doc, res := c.runJSON("approve", "--key", key, "--reason", "CAB-7", "test", "web@"+d)
	require.Equal(t, ExitOK, code, doc.Error)
	assert.Equal(t, "test", res["env"])
	assert.Equal(t, d, res["digest"])
	assert.Equal(t, "https://promote.dev/attestation/approval/v1", res["predicateType"])
	assert.NotEmpty(t, res["approver"], "a default approver")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, res["attestation"])

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"approve", "test", "web@" + d, "--key", key}, "--reason TEXT is required"},
		{[]string{"approve", "test", "web:1.0", "--key", key, "--reason", "x"}, "pass web@DIGEST"},
		{[]string{"approve", "test", "web@sha256:" + strings.Repeat("0", 64), "--key", key, "--reason", "x"}, "is not in " + c.reg.Host + "/dev/web"},
		{[]string{"approve", "dev", "web@" + d, "--key", key, "--reason", "x"}, "environment dev has no approvals block"},
		{[]string{"approve", "test", "web@" + d, "--reason", "x"}, "--key FILE is required"},
		{[]string{"approve", "test"}, "approve: missing arguments"},
	} {
		code, _, stderr := c.run(tc.args...)
		assert.Equal(t, ExitUsage, code, tc.args)
		assert.Contains(t, stderr, tc.want, tc.args)
	}

	code, out, stderr = c.run("status", "web")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "dev -> test: gates nonroot; run: promote to test web:TAG")

	code, out, stderr = c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "promoted web@")
}

func TestPrintPendingApprovals(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	var b strings.Builder
	printPendingApprovals(&b, "prod", &promote.PendingApprovals{Digest: d, ApprovalTally: promote.ApprovalTally{Required: 2, Missing: 1,
		Approved:   []promote.Approval{{Approver: "alice", Signer: "keys/alice.pub (key 0123)"}},
		NotCounted: []promote.NotCounted{{Why: "expired"}}}, Command: "promote approve prod web@" + d + " --key FILE --reason TEXT"})
	printPendingApprovals(&b, "prod", &promote.PendingApprovals{Digest: d, ApprovalTally: promote.ApprovalTally{Required: 1,
		Approved: []promote.Approval{{Signer: "keys/bob.pub (key 4567)"}}}})
	printPendingApprovals(&b, "prod", &promote.PendingApprovals{Digest: d, Error: "connection refused"})
	assert.Equal(t, "prod approvals of sha256:abababababab: 1 of 2 (alice, signed by keys/alice.pub (key 0123)); 1 not counted; 1 missing; run: promote approve prod web@"+d+" --key FILE --reason TEXT\n"+
		"prod approvals of sha256:abababababab: 1 of 1 (keys/bob.pub (key 4567)); approved\n"+
		"prod approvals of sha256:abababababab: cannot be counted: connection refused\n", b.String())
}
