package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// policy export prints the files as one YAML stream, or writes them under
// --out and lists them (in JSON, with their SHA-256); the same config and
// ledger give the same bytes both ways.
func TestCLIPolicyExport(t *testing.T) {
	c := newCLI(t)
	code, _, errOut := c.run("policy", "export", "--for", "gatekeeper")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "environment test holds no app yet", "an environment without apps admits nothing: no export")
	c.promoted(t, "test", "web")
	code, out, errOut := c.run("policy", "export", "--for", "gatekeeper")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, 2, strings.Count(out, "\n---\n"), "two documents:\n%s", out)
	assert.Contains(t, out, "name: promote-test\n", "the last environment by default")
	assert.Contains(t, out, "# config: environments.yaml sha256:")
	assert.Contains(t, out, "promote.dev/ledger-head: r-")
	assert.Contains(t, out, "repositories:\n      - "+c.reg.Host+"/test/web\n", "the repositories of the apps test holds")

	dir := filepath.Join(t.TempDir(), "policies")
	code, doc, res := c.runJSON("policy", "export", "--out", dir, "--for", "gatekeeper", "--env", "test")
	require.Equal(t, ExitOK, code, doc.Error)
	files, _ := res["files"].([]any)
	require.Len(t, files, 2)
	var written strings.Builder
	for _, f := range files {
		m := f.(map[string]any)
		assert.Len(t, m["sha256"], 64)
		assert.Nil(t, m["content"], "written, not printed")
		b, err := os.ReadFile(m["path"].(string))
		require.NoError(t, err)
		written.Write(b)
	}
	assert.Equal(t, out, written.String(), "the files hold the stream's bytes")
}

// Bad input is a usage or configuration error (exit 2) naming what is
// wrong, and nothing is written.
func TestCLIPolicyExportRefuses(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Join(t.TempDir(), "policies")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "export"}, "--for is required"},
		{[]string{"policy", "export", "--for", "opa"}, `--for "opa": expected one of gatekeeper, kyverno, policy-controller`},
		{[]string{"policy", "export", "--for", "gatekeeper", "--env", "qa"}, `unknown environment "qa"`},
		{[]string{"policy", "export", "extra", "--for", "gatekeeper"}, `unexpected argument "extra"`},
		{[]string{"policy", "export", "--for", "kyverno"}, "environment test in " + c.config + " has no attest key"},
		{[]string{"policy", "export", "--for", "kyverno", "--attest-pub", c.config}, "--attest-pub"},
		{[]string{"policy", "export", "--for", "gatekeeper", "--attest-pub", c.config}, "the gatekeeper export checks no signature"},
	} {
		code, _, errOut := c.run(append(tc.args, "--out", dir)...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
		assert.NoDirExists(t, dir, "%v wrote nothing", tc.args)
	}
}

// A pipeline that forks has several last environments: --env must name
// the one the cluster runs.
func TestCLIPolicyExportNeedsEnvWhenThePipelineForks(t *testing.T) {
	c := newCLI(t)
	b, err := os.ReadFile(c.config)
	require.NoError(t, err)
	fork := strings.Replace(string(b), "  - name: test\n", "  - name: qa\n    from: dev\n    repository: "+c.reg.Host+"/qa/{app}\n    tags: immutable\n  - name: test\n", 1)
	require.NoError(t, os.WriteFile(c.config, []byte(fork), 0o600))
	code, _, errOut := c.run("policy", "export", "--for", "gatekeeper")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "--env is required: "+c.config+" has 2 last environments (qa, test)")
	c.promoted(t, "qa", "web")
	code, out, errOut := c.run("policy", "export", "--for", "gatekeeper", "--env", "qa")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "name: promote-qa\n")
}

// promoted pushes a good image of app to dev and promotes it into env.
func (c *harness) promoted(t *testing.T, env, app string) {
	t.Helper()
	regtest.Push(t, c.reg.Host+"/dev/"+app+":1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, _, errOut := c.run("to", env, app+":1.0")
	require.Equal(t, ExitOK, code, errOut)
}
