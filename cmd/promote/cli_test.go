package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

type harness struct {
	t      *testing.T
	config string
	reg    *regtest.Registry
}

func newCLI(t *testing.T) *harness {
	reg := regtest.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
ledger: ledger.db
environments:
  - name: dev
    repository: %[1]s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %[1]s/test/{app}
    tags: immutable
    gates:
      - nonroot: {}
`, reg.Host)), 0o600))
	t.Setenv("PROMOTE_CACHE_DIR", filepath.Join(dir, "cache"))
	return &harness{t: t, config: cfg, reg: reg}
}

// run invokes the real command line in-process.
func (c *harness) run(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	argv := append([]string{"promote", "--config", c.config, "--insecure-registry", "127.0.0.1"}, args...)
	code = run(context.Background(), argv, &out, &errw)
	return code, out.String(), errw.String()
}

// runJSON asserts stdout is exactly one JSON document and decodes it.
func (c *harness) runJSON(args ...string) (int, document, map[string]any) {
	code, out, _ := c.run(append(args, "--output", "json")...)
	doc, res := decodeDocument(c.t, out)
	return code, doc, res
}

// decodeDocument asserts out is exactly one JSON document and decodes it.
func decodeDocument(t *testing.T, out string) (document, map[string]any) {
	dec := json.NewDecoder(strings.NewReader(out))
	var raw map[string]any
	require.NoError(t, dec.Decode(&raw), "stdout: %s", out)
	require.False(t, dec.More(), "exactly one JSON document on stdout: %s", out)
	var doc document
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	res, _ := raw["result"].(map[string]any)
	return doc, res
}

func TestCLIExitCodesAndJSON(t *testing.T) {
	c := newCLI(t)
	good := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:root", regtest.Image(t, 1, regtest.Labels("1.1"), "root"))
	regtest.Push(t, c.reg.Host+"/dev/web:1.0-rebuilt", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))

	code, doc, res := c.runJSON("to", "test", "web:1.0", "--reason", "ship it")
	require.Equal(t, ExitOK, code, doc.Error)
	assert.True(t, doc.OK)
	assert.Equal(t, "application/vnd.promote.result.v1+json", doc.MediaType)
	assert.Equal(t, good.String(), res["digest"])

	code, out, _ := c.run("current", "test", "web")
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, c.reg.Host+"/test/web@"+good.String()+"\n", out)

	code, doc, res = c.runJSON("to", "test", "web:root", "--tag", "1.1")
	assert.Equal(t, ExitRejected, code)
	assert.False(t, doc.OK)
	assert.Contains(t, doc.Error, "nonroot")
	assert.Equal(t, "fail", res["gates"].([]any)[0].(map[string]any)["verdict"])

	// gates: evaluate only; exit 3 on a rejection, nothing copied or recorded.
	code, doc, res = c.runJSON("gates", "test", "web:root")
	assert.Equal(t, ExitRejected, code, doc.Error)
	assert.Equal(t, "fail", res["gates"].([]any)[0].(map[string]any)["verdict"])
	code, out, _ = c.run("gates", "test", "web:1.0-rebuilt")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "PASS nonroot")
	assert.Contains(t, out, "path      ok")

	code, doc, _ = c.runJSON("to", "test", "web:1.0-rebuilt", "--tag", "1.0")
	assert.Equal(t, ExitConflict, code, doc.Error)
	assert.Contains(t, doc.Error, "already names "+good.String())

	code, _, errOut := c.run("current", "test", "web", "extra")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)

	code, _, errOut = c.run("to", "test", "web:1.0", "--bogus")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "bogus")

	code, doc, _ = c.runJSON("to", "nowhere", "web:1.0")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, doc.Error, "nowhere")

	code, _, errOut = c.run("to", "dev", "web:1.0")
	assert.Equal(t, ExitUsage, code, "dev has no from")
	assert.Contains(t, errOut, "fed by pushes")

	code, doc, res = c.runJSON("history", "web")
	require.Equal(t, ExitOK, code, doc.Error)
	recs := res["records"].([]any)
	require.Len(t, recs, 3)
	kinds := []string{}
	for _, r := range recs {
		kinds = append(kinds, r.(map[string]any)["kind"].(string))
	}
	assert.Equal(t, []string{"rejected", "rejected", "promotion"}, kinds, "newest first")

	code, out, _ = c.run("history", "--kind", "promotion", "--limit", "1")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "promotion")
	assert.NotContains(t, out, "rejected")

	code, out, _ = c.run("ledger", "verify")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "ledger ok: 3 records")
}

func TestCLIConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nenvironments:\n  - name: dev\n    repository: localhost:5000/dev/{app}\n    tags: mutable\n    colour: blue\n"), 0o600))
	var out, errw bytes.Buffer
	code := run(context.Background(), []string{"promote", "--config", bad, "history"}, &out, &errw)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errw.String(), bad+":6")
	assert.Contains(t, errw.String(), "colour")

	out.Reset()
	errw.Reset()
	code = run(context.Background(), []string{"promote", "--config", filepath.Join(dir, "missing.yaml"), "history", "--output", "json"}, &out, &errw)
	assert.Equal(t, ExitUsage, code)
	var doc document
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	assert.False(t, doc.OK)
	assert.Contains(t, doc.Error, "missing.yaml")

	out.Reset()
	code = run(context.Background(), []string{"promote", "--output", "yaml", "history"}, &out, &errw)
	assert.Equal(t, ExitUsage, code)
}
