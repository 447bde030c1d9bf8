package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// A release manager's freeze and revocation, as typed: each is one record,
// refuses promotions with exit 3, shows in history and show, and lifts.
func TestCLIFreezeAndRevoke(t *testing.T) {
	c := newCLI(t)
	d1 := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))

	code, _, stderr := c.run("freeze", "test")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "--reason TEXT is required")
	code, _, stderr = c.run("freeze", "test", "--all", "--reason", "x")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "not both")
	code, out, stderr := c.run("freeze", "test", "--reason", "incident 42")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "FROZEN test")
	code, _, stderr = c.run("to", "test", "web:1.0")
	assert.Equal(t, ExitRejected, code)
	assert.Contains(t, stderr, "release policy freeze: test is frozen since")
	code, out, _ = c.run("history", "--kind", "freeze")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "test  (all)")
	code, out, _ = c.run("history", "web", "--output", "csv", "--limit", "1")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, ",freeze=fail,", "the refusal's policy verdict, in its column")
	code, out, stderr = c.run("unfreeze", "test", "--reason", "resolved")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "UNFROZE test")
	code, out, _ = c.run("unfreeze", "test")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "nothing to do: test is not frozen")
	code, out, stderr = c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "promoted web@")

	code, _, stderr = c.run("revoke", "web:1.0", "--reason", "x")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "expected APP@DIGEST")
	code, out, stderr = c.run("--output", "json", "revoke", "web@"+d1.String(), "--reason", "CVE-2026-1")
	require.Equal(t, ExitOK, code, "%s %s", stderr, out)
	var doc struct {
		Result struct {
			Kind    string   `json:"kind"`
			Running []string `json:"running"`
			Record  struct {
				ID string `json:"id"`
			} `json:"record"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, "revocation", doc.Result.Kind)
	assert.Equal(t, []string{"test"}, doc.Result.Running)
	code, out, _ = c.run("show", doc.Result.Record.ID)
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "kind       revocation")
	assert.Contains(t, out, "every environment/web")
	assert.Contains(t, out, "reason     CVE-2026-1")

	code, out, _ = c.run("status", "web")
	require.Equal(t, ExitOK, code, "status alone does not fail")
	assert.Contains(t, out, "test: runs "+d1.String()[:19]+", REVOKED (record "+doc.Result.Record.ID+"): CVE-2026-1")
	code, out, stderr = c.run("status", "web", "--fail-on", "revoked")
	assert.Equal(t, ExitRejected, code)
	assert.Contains(t, out, "REVOKED", "the status is printed beside the error")
	assert.Contains(t, stderr, "web runs a revoked digest in test")
	code, _, stderr = c.run("status", "web", "--fail-on", "stale")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, `--fail-on "stale": expected revoked`)

	code, _, stderr = c.run("rollback", "test", "web", "--to", d1.String())
	assert.Equal(t, ExitOK, code, "test already runs it: nothing to do (%s)", stderr)
	code, out, stderr = c.run("unrevoke", "web@"+d1.String(), "--reason", "false positive")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "UNREVOKED web@"+d1.String())
	code, _, stderr = c.run("status", "web", "--fail-on", "revoked")
	assert.Equal(t, ExitOK, code, stderr)
}
