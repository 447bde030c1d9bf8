package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// writeConfig writes an environments.yaml to a directory of its own and
// returns its path: dev on the test registry, test on host, with an
// attestation key when key is set.
func writeConfig(t *testing.T, devHost, testHost, key string) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 1\nledger: ledger.db\nenvironments:\n  - name: dev\n    repository: %s/dev/{app}\n    tags: mutable\n"+
		"  - name: test\n    from: dev\n    repository: %s/test/{app}\n    tags: immutable\n    pointerTag: current\n    gates:\n      - nonroot: {}\n", devHost, testHost)
	if key != "" {
		cfg += "    attest: {key: " + key + "}\n"
	}
	path := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	return path
}

func TestCLIEnvsListAndConfigCheck(t *testing.T) {
	reg := regtest.New(t)
	key, err := filepath.Abs("../../testdata/attest/cosign.key")
	require.NoError(t, err)
	path := writeConfig(t, reg.Host, reg.Host, key)
	c := &harness{t: t, config: path, reg: reg}

	code, out, stderr := c.run("envs", "list")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "dev   (pushes)  "+reg.Host+"/dev/{app}   mutable")
	assert.Contains(t, out, "test  dev       "+reg.Host+"/test/{app}  immutable, pointer current  nonroot")
	_, err = os.Stat(filepath.Join(filepath.Dir(path), "ledger.db"))
	assert.True(t, os.IsNotExist(err), "envs list opens no ledger")

	t.Setenv("PROMOTE_ATTEST_KEY_PASSWORD", "promote-test")
	code, out, stderr = c.run("config", "check", "--online")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "test: attestation key "+key+": ok")
	assert.Contains(t, out, "test: registry "+reg.Host+": ok")
	assert.Contains(t, out, "no problems found")

	t.Setenv("PROMOTE_ATTEST_KEY_PASSWORD", "wrong")
	code, out, _ = c.run("config", "check")
	assert.Equal(t, ExitUsage, code, "a key that cannot be decrypted is a configuration problem")
	assert.Contains(t, out, "test: attestation key "+key+": ")
	assert.NotContains(t, out, "registry", "without --online no registry is reached")
	assert.Contains(t, out, "1 problem(s)")

	down := regtest.ClosedPort(t)
	c.config = writeConfig(t, reg.Host, down, "")
	code, out, _ = c.run("config", "check", "--online")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, out, "test: registry "+down+": ")
	assert.Contains(t, out, "1 problem(s)")
	_, err = os.Stat(filepath.Join(filepath.Dir(c.config), "ledger.db"))
	assert.True(t, os.IsNotExist(err), "config check opens no ledger")
}
