package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/internal/regtest"
)

// runRaw invokes the real command line in-process without the harness's
// --insecure-registry, so PROMOTE_INSECURE_REGISTRY is what counts.
func (c *harness) runRaw(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = run(context.Background(), append([]string{"promote", "--config", c.config}, args...), &out, &errw)
	return code, out.String(), errw.String()
}

func TestInsecureRegistryEnvWarnsOnStderr(t *testing.T) {
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	t.Setenv("PROMOTE_INSECURE_REGISTRY", c.reg.Host+",registry.internal:5000")
	code, out, errOut := c.runRaw("gates", "test", "web:1.0", "--output", "json")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "plain HTTP")
	assert.NotContains(t, errOut, c.reg.Host, "loopback traffic crosses no network")
	assert.Contains(t, errOut, "registry.internal:5000")
	assert.Contains(t, errOut, "PROMOTE_INSECURE_REGISTRY")
	assert.NotContains(t, out, "plain HTTP", "stdout stays one JSON document")

	code, _, errOut = c.runRaw("history")
	assert.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, errOut, "plain HTTP", "history reaches no registry: the variable is not its")

	t.Setenv("PROMOTE_INSECURE_REGISTRY", "")
	code, _, errOut = c.runRaw("gates", "test", "web:1.0", "--insecure-registry", c.reg.Host)
	assert.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, errOut, "plain HTTP", "no warning when nothing is insecure")

	t.Setenv("PROMOTE_INSECURE_REGISTRY", c.reg.Host+",localhost:5000,[::1]:5000")
	code, _, errOut = c.runRaw("gates", "test", "web:1.0")
	assert.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, errOut, "plain HTTP", "no warning for loopback hosts only")
}

func TestInsecureRegistryRefusesAScheme(t *testing.T) {
	c := newCLI(t)
	for _, v := range []string{"http://127.0.0.1:5000", "127.0.0.1:5000,https://registry.internal", "HTTP://localhost"} {
		t.Setenv("PROMOTE_INSECURE_REGISTRY", v)
		code, _, errOut := c.runRaw("gates", "test", "web:1.0")
		assert.Equal(t, ExitUsage, code, "%s: %s", v, errOut)
		assert.Contains(t, errOut, "PROMOTE_INSECURE_REGISTRY", v)
		assert.Contains(t, errOut, "://", "names the value: %s", errOut)
		assert.Contains(t, errOut, "HOST[:PORT]", v)
		code, _, errOut = c.runRaw("history")
		assert.Equal(t, ExitOK, code, "history does not use %s: %s", v, errOut)
	}
	t.Setenv("PROMOTE_INSECURE_REGISTRY", "")
	for _, v := range []string{"http://127.0.0.1:5000", "127.0.0.1:5000/v2", "ci@registry.internal"} {
		code, _, errOut := c.runRaw("--insecure-registry", v, "history")
		assert.Equal(t, ExitUsage, code, "%q: %s", v, errOut)
		assert.Contains(t, errOut, "--insecure-registry", v)
		assert.Contains(t, errOut, "HOST[:PORT]", v)
	}
	code, _, errOut := c.runRaw("--insecure-registry", "http://127.0.0.1:5000", "history")
	assert.Contains(t, errOut, `"http://127.0.0.1:5000"`, "names the value")
	assert.Contains(t, errOut, "without http://")
	assert.Equal(t, ExitUsage, code)
}
