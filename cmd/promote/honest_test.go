package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// The text output says what happened, no more: gates a refusal never ran
// are "not run", the pointer tag's move is shown, counts agree in number,
// and a rollback's record has no empty "given".
func TestCLIOutputIsHonest(t *testing.T) {
	c := newCLI(t)
	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	withPointer := strings.Replace(string(cfg), "    tags: immutable\n", "    tags: immutable\n    pointerTag: current\n", 1)
	require.NoError(t, os.WriteFile(c.config, []byte(withPointer), 0o600))
	d := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))

	code, out, stderr := c.run("to", "test", "web:1.0", "--dry-run")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "pointer   "+c.reg.Host+"/test/web:current would move to "+short(d.String()))
	assert.Regexp(t, `plan      copy 0 blobs \(0 B\), mount 0, 2 present; write 1 of 1 manifest\n`, out)

	code, out, stderr = c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "pointer   "+c.reg.Host+"/test/web:current moved to "+short(d.String()))
	assert.Contains(t, out, "copied    0 blobs (0 B), 0 within the registry (mounted where it allows), 2 present; 1 manifest written, 0 present")
	assert.NotContains(t, out, "1 manifests")

	code, _, stderr = c.run("to", "test", "web:2.0")
	require.Equal(t, ExitOK, code, stderr)
	code, out, stderr = c.run("rollback", "test", "web")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "pointer   "+c.reg.Host+"/test/web:current -> "+short(d.String()))
	id := strings.Fields(out[strings.Index(out, "record    ")+len("record    "):])[0]
	code, out, stderr = c.run("show", id)
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "source     "+c.reg.Host+"/test/web@"+d.String()+"\n", "no empty (given )")
	assert.NotContains(t, out, "given )")
}

// Gates a path violation stops before are said not to have run.
func TestCLIPathViolationSaysGatesNotRun(t *testing.T) {
	c := newCLI(t)
	cfg, err := os.ReadFile(c.config)
	require.NoError(t, err)
	prod := string(cfg) + "  - name: prod\n    from: test\n    repository: " + c.reg.Host + "/prod/{app}\n    tags: immutable\n    gates:\n      - nonroot: {}\n"
	require.NoError(t, os.WriteFile(c.config, []byte(prod), 0o600))
	regtest.Push(t, c.reg.Host+"/test/web:9.9", regtest.Image(t, 1, regtest.Labels("9.9"), "1000"))
	code, out, _ := c.run("to", "prod", "web:9.9")
	assert.Equal(t, ExitConflict, code)
	assert.Contains(t, out, "gates     not run: the run stopped before them")
	assert.NotContains(t, out, "none configured")
}

// Verdict words are coloured only on a terminal, never with NO_COLOR or
// into a pipe or file.
func TestVerdictColour(t *testing.T) {
	var buf bytes.Buffer
	assert.Equal(t, "PASS", paint(&buf, "PASS"))
	assert.Equal(t, "\x1b[31mFAIL\x1b[0m", paint(colorOut{&buf}, "FAIL"))
	assert.Equal(t, "\x1b[32mPASS\x1b[0m", verdictWord(colorOut{&buf}, "pass"))
	assert.Equal(t, "FAIL", verdictWord(&buf, "fail"))
	assert.Equal(t, "other", paint(colorOut{&buf}, "other"))
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	s := &state{}
	assert.False(t, s.wantColor(f), "a file takes no colour")
	assert.False(t, s.wantColor(&buf))
	t.Setenv("NO_COLOR", "1")
	assert.False(t, s.wantColor(os.Stdout))
}
