package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote"
)

// newKeyedCLI is the CLI harness with a keyed ledger: ledger.key names a
// key promote.GenerateLedgerKey made; test is immutable, so its repository
// with {app} = promote-ledger is the default witness.
func newKeyedCLI(t *testing.T) *harness {
	reg := regtest.New(t)
	dir := t.TempDir()
	_, err := promote.GenerateLedgerKey(context.Background(), filepath.Join(dir, "ledger.key"), "ledger.promote.test/cli")
	require.NoError(t, err)
	cfg := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
ledger: {location: ledger.db, key: ledger.key}
environments:
  - name: dev
    repository: %[1]s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %[1]s/test/{app}
    tags: immutable
`, reg.Host)), 0o600))
	t.Setenv("PROMOTE_CACHE_DIR", filepath.Join(dir, "cache"))
	return &harness{t: t, config: cfg, reg: reg}
}

func (c *harness) promoteWeb(version string) {
	c.t.Helper()
	regtest.Push(c.t, c.reg.Host+"/dev/web:"+version, regtest.Image(c.t, 1, regtest.Labels(version), "1000"))
	code, _, errOut := c.run("to", "test", "web:"+version)
	require.Equal(c.t, ExitOK, code, errOut)
}

func TestLedgerPublish(t *testing.T) {
	c := newKeyedCLI(t)
	witness := c.reg.Host + "/test/promote-ledger"
	ledgerFile := filepath.Join(filepath.Dir(c.config), "ledger.db")

	code, _, errOut := c.run("ledger", "publish")
	assert.Equal(t, ExitError, code, "nothing appended: nothing signed")
	assert.Contains(t, errOut, "nothing to publish")
	assert.NoFileExists(t, ledgerFile, "publishing only reads the ledger")

	c.promoteWeb("1.0")
	code, out, errOut := c.run("ledger", "publish")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "checkpoint-1  log ledger.promote.test/cli, 1 leaves, sha256:")
	assert.Contains(t, out, "  PUBLISHED  "+witness+"\n")

	code, doc, res := c.runJSON("ledger", "publish")
	require.Equal(t, ExitOK, code, doc.Error)
	assert.Equal(t, "ledger publish", doc.Command)
	assert.Equal(t, "checkpoint-1", res["tag"])
	assert.Equal(t, float64(1), res["treeSize"])
	assert.Equal(t, []any{map[string]any{"repository": witness, "action": "unchanged"}}, res["witnesses"])

	c.promoteWeb("2.0")
	code, out, errOut = c.run("ledger", "publish")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "  PUBLISHED  "+witness+"  (extends checkpoint-1)\n")

	// Another artifact under the next tag: a conflict, and the result says where.
	regtest.Push(t, witness+":checkpoint-3", regtest.Image(t, 1, regtest.Labels("x"), "1000"))
	c.promoteWeb("3.0")
	code, doc, res = c.runJSON("ledger", "publish")
	assert.Equal(t, ExitConflict, code)
	assert.False(t, doc.OK)
	assert.Contains(t, doc.Error, "already holds checkpoint-3")
	require.NotNil(t, res, "the result stands beside the error")
	w := res["witnesses"].([]any)[0].(map[string]any)
	assert.Equal(t, "failed", w["action"])
	code, out, errOut = c.run("ledger", "publish")
	assert.Equal(t, ExitConflict, code)
	assert.Contains(t, out, "  FAIL       "+witness+"  (conflict: witness "+witness+" already holds checkpoint-3")
	assert.Contains(t, errOut, "promote: checkpoint-3 was not published to 1 of 1 witness repositories: conflict:")

	code, _, errOut = c.run("ledger", "publish", "extra")
	assert.Equal(t, ExitUsage, code, errOut)
}

func TestLedgerPublishNeedsALedgerKey(t *testing.T) {
	c := newCLI(t) // ledger: ledger.db, no key
	code, doc, _ := c.runJSON("ledger", "publish")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, doc.Error, "set ledger.key")
}

// Junk images pushed under checkpoint tags above the witnessed checkpoints
// (anyone with push rights to the witness can) do not get a ledger cut
// short and regrown past publish's check: it reads past them to the
// checkpoint signed by the ledger's key and refuses, exit 4, as it does
// without the junk. The text lists the junk it looked past, the first few
// by name.
func TestLedgerPublishLooksPastJunkTags(t *testing.T) {
	c := newKeyedCLI(t)
	witness := c.reg.Host + "/test/promote-ledger"
	for _, v := range []string{"1.0", "2.0"} {
		c.promoteWeb(v)
		code, _, errOut := c.run("ledger", "publish")
		require.Equal(t, ExitOK, code, errOut)
	}
	junk := regtest.Image(t, 1, regtest.Labels("junk"), "1000")
	for n := 1000; n < 1010; n++ {
		regtest.Push(t, fmt.Sprintf("%s:checkpoint-%d", witness, n), junk)
	}

	// The store's writer cuts the last record, and promotions go on.
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(c.config), "ledger.db"))
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TRIGGER records_no_delete`, `DROP TRIGGER log_leaves_no_delete`,
		`DROP TRIGGER log_checkpoints_no_delete`, `DROP TRIGGER log_hashes_no_delete`, `DELETE FROM log_leaves WHERE leaf >= 1`,
		`DELETE FROM records WHERE seq >= 2`, `DELETE FROM log_checkpoints WHERE size >= 2`, `DELETE FROM log_hashes WHERE idx >= 1`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())
	c.promoteWeb("3.0")
	c.promoteWeb("4.0")

	code, out, errOut := c.run("ledger", "publish")
	assert.Equal(t, ExitConflict, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, "does not extend "+witness+":checkpoint-2")
	assert.Contains(t, out, "ignored checkpoint-1009, checkpoint-1008, checkpoint-1007, checkpoint-1006, checkpoint-1005, "+
		"checkpoint-1004, checkpoint-1003, checkpoint-1002 and 2 more: not checkpoints signed by the ledger's key")
	tags, err := crane.ListTags(witness, crane.Insecure)
	require.NoError(t, err)
	assert.NotContains(t, tags, "checkpoint-3", "nothing published")
}
