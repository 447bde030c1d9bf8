package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

func TestCLIStatus(t *testing.T) {
	c := newCLI(t)
	d := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, _, stderr := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, stderr)

	code, out, stderr := c.run("status", "web")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "dev   (fed by pushes)")
	assert.Contains(t, out, "test  "+short(d.String())+"  1.0")
	assert.Contains(t, out, "dev -> test: gates nonroot; run: promote to test web:TAG")

	code, doc, res := c.runJSON("status", "web")
	require.Equal(t, ExitOK, code, doc.Error)
	envs := res["environments"].([]any)
	require.Len(t, envs, 2)
	assert.Equal(t, d.String(), envs[1].(map[string]any)["digest"])

	code, _, stderr = c.run("status", "web:1.0")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "expected an app name")
	code, _, _ = c.run("status")
	assert.Equal(t, ExitUsage, code)
}
