package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// The release manager's incident path, as typed: the digest history
// printed, a dry run, the rollback, the same rollback again.
func TestCLIRollbackAsHistoryPrintsIt(t *testing.T) {
	c := newCLI(t)
	d1 := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	for _, v := range []string{"1.0", "2.0"} {
		code, _, stderr := c.run("to", "test", "web:"+v)
		require.Equal(t, ExitOK, code, stderr)
	}
	code, out, _ := c.run("history", "web", "--env", "test")
	require.Equal(t, ExitOK, code)
	short := d1.String()[:len("sha256:")+12]
	require.Contains(t, out, short, "history prints the short digest")

	code, out, stderr := c.run("rollback", "test", "web", "--to", short, "--dry-run")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "would roll back web in test (dry run: nothing written)")
	assert.Contains(t, out, "to        "+c.reg.Host+"/test/web@"+d1.String())
	assert.Contains(t, out, "tags      1.0")
	code, out, _ = c.run("current", "test", "web")
	require.Equal(t, ExitOK, code)
	assert.NotContains(t, out, d1.String(), "the dry run changed nothing")

	code, out, stderr = c.run("rollback", "test", "web", "--to", short, "--reason", "incident 42")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "rolled back web in test")
	code, out, _ = c.run("current", "test", "web")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, c.reg.Host+"/test/web@"+d1.String()+"\n", out)

	code, out, stderr = c.run("rollback", "test", "web", "--to", short)
	assert.Equal(t, ExitOK, code, "a retried rollback is nothing to do: %s", stderr)
	assert.Equal(t, "test already runs "+c.reg.Host+"/test/web@"+d1.String()+"; nothing to roll back\n", out)
	code, out, _ = c.run("history", "web", "--env", "test", "--kind", "rollback")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, 2, strings.Count(out, "\n"), "one rollback recorded, under the header: %s", out)

	code, _, stderr = c.run("rollback", "test", "web", "--to", "sha256:000000000000")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "pass the full digest or a record id")
}
