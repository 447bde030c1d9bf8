package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// --quiet prints the result alone: REPOSITORY@DIGEST of what a promotion
// wrote and of what a rollback leaves running, one line per app of a
// batch; a failure prints its error on stderr and nothing on stdout.
func TestQuietPrintsOnlyTheResult(t *testing.T) {
	c := newCLI(t)
	d1 := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	d2 := regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	api := regtest.Push(t, c.reg.Host+"/dev/api:1.0", regtest.Image(t, 2, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/bad:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "root"))
	testRef := func(app, d string) string { return c.reg.Host + "/test/" + app + "@" + d }

	code, out, errOut := c.run("-q", "to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, testRef("web", d1.String())+"\n", out)
	assert.Empty(t, errOut)
	code, out, errOut = c.run("to", "test", "web:1.0", "--quiet")
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, testRef("web", d1.String())+"\n", out, "nothing to do: what test holds")
	assert.Empty(t, errOut)
	code, out, _ = c.run("to", "test", "web:2.0", "-q")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, testRef("web", d2.String())+"\n", out)

	code, out, errOut = c.run("-q", "to", "test", "bad:1.0")
	assert.Equal(t, ExitRejected, code)
	assert.Empty(t, out, "a refusal has no result")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	assert.Contains(t, errOut, "nonroot")

	code, out, errOut = c.run("-q", "to", "test", "api:1.0", "bad:1.0")
	assert.Equal(t, ExitRejected, code)
	assert.Equal(t, testRef("api", api.String())+"\n", out, "one line per app promoted")
	assert.True(t, strings.HasPrefix(errOut, "promote: bad:1.0: "), errOut)
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)

	code, out, errOut = c.run("-q", "rollback", "test", "web")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, testRef("web", d1.String())+"\n", out, "what test runs now")
	assert.Empty(t, errOut)
	code, out, _ = c.run("-q", "current", "test", "web")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, testRef("web", d1.String())+"\n", out)

	code, out, _ = c.run("-q", "history", "web", "--kind", "rollback")
	require.Equal(t, ExitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1, "one record id a line: %s", out)
	code, out, _ = c.run("-q", "show", lines[0])
	require.Equal(t, ExitOK, code)
	assert.Equal(t, d1.String()+"\n", out, "the digest the record is about")
	code, out, _ = c.run("-q", "history", "nothing-here")
	assert.Equal(t, ExitOK, code)
	assert.Empty(t, out, "no records, no lines")

	code, out, errOut = c.run("-q", "gates", "test", "web:2.0")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, c.reg.Host+"/dev/web@"+d2.String()+"\n", out, "the image judged")
}

func TestQuietSilencesWarningsAndGivesWayToJSON(t *testing.T) {
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	t.Setenv("PROMOTE_INSECURE_REGISTRY", c.reg.Host+",registry.internal:5000")
	_, _, errOut := c.runRaw("gates", "test", "web:1.0")
	require.Contains(t, errOut, "plain HTTP", "without --quiet, a warning")
	code, out, errOut := c.runRaw("gates", "test", "web:1.0", "--quiet")
	assert.Equal(t, ExitOK, code)
	assert.Empty(t, errOut, "no warning with --quiet")
	assert.NotEmpty(t, out)
	t.Setenv("PROMOTE_QUIET", "1")
	_, _, errOut = c.runRaw("gates", "test", "web:1.0")
	assert.Empty(t, errOut, "PROMOTE_QUIET=1 is --quiet")

	// With --output json, json wins: one document; --quiet still silences stderr.
	code, out, errOut = c.runRaw("gates", "test", "web:1.0", "--quiet", "--output", "json")
	assert.Equal(t, ExitOK, code)
	doc, res := decodeDocument(t, out)
	assert.True(t, doc.OK)
	assert.NotEmpty(t, res["gates"])
	assert.Empty(t, errOut)

	// --quiet and --verbose contradict: a flag beats the other's variable;
	// two flags are a usage error.
	t.Setenv("PROMOTE_VERBOSE", "true")
	code, _, errOut = c.runRaw("gates", "test", "web:1.0", "--quiet")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Empty(t, errOut)
	code, _, errOut = c.runRaw("gates", "test", "web:1.0")
	assert.Equal(t, ExitUsage, code, "two variables contradict: %s", errOut)
	assert.Contains(t, errOut, "PROMOTE_QUIET and PROMOTE_VERBOSE contradict")
	t.Setenv("PROMOTE_VERBOSE", "")
	t.Setenv("PROMOTE_QUIET", "")
	code, _, errOut = c.runRaw("history", "--quiet", "--verbose")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "--quiet and --verbose contradict each other")
}
