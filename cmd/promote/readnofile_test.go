package main

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// filesUnder returns every path under dir with its size, so that a command
// that creates, removes or grows a file shows.
func filesUnder(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fi.Size()
		if d.IsDir() {
			out[rel] = -1
		}
		return nil
	}))
	return out
}

// A read command creates no ledger file: run against a ledger that does not
// exist yet, each answers as for an empty ledger and leaves the directory as
// it was, and against an existing ledger it leaves the ledger's files as
// they were. The first promotion then creates the ledger, as before.
func TestCLIReadCommandsCreateNoLedgerFile(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Dir(c.config)
	ledgerPath := filepath.Join(dir, "ledger.db")

	reads := []struct {
		args []string
		code int
		out  string // in stdout, or in stderr when code is not ExitOK
	}{
		{[]string{"current", "test", "web"}, ExitError, "nothing has been promoted to test for web"},
		{[]string{"history"}, ExitOK, "no records"},
		{[]string{"history", "web", "--env", "test"}, ExitOK, "no records"},
		{[]string{"history", "--output", "json"}, ExitOK, `"records": []`},
		{[]string{"show", "r-0123456789"}, ExitError, `ledger record "r-0123456789": not found`},
		{[]string{"status", "web"}, ExitOK, "test  (nothing)"},
		{[]string{"ledger", "verify"}, ExitOK, "ledger ok: 0 records in 0 chains"},
		{[]string{"ledger", "check"}, ExitError, "no storage settings to check"},
		{[]string{"policy", "export", "--for", "gatekeeper"}, ExitUsage, "environment test holds no app yet"},
		// Work that records nothing opens the ledger read-only too.
		{[]string{"gates", "test", "web:1.0"}, ExitOK, "PASS nonroot"},
		{[]string{"to", "test", "web:1.0", "--dry-run"}, ExitOK, "dry run: would promote web@"},
		{[]string{"rollback", "test", "web", "--dry-run"}, ExitError, "test has never held web"},
	}
	digest := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	before := filesUnder(t, dir)
	for _, r := range reads {
		code, out, errOut := c.run(r.args...)
		assert.Equal(t, r.code, code, "%v: %s", r.args, errOut)
		if r.code == ExitOK {
			assert.Contains(t, out, r.out, "%v", r.args)
		} else {
			assert.Contains(t, errOut, r.out, "%v", r.args)
		}
		assert.Equal(t, before, filesUnder(t, dir), "%v created or changed a file", r.args)
	}
	assert.NoFileExists(t, ledgerPath)

	// The first promotion creates the ledger; reads then find it, and leave
	// its files (no -wal, -shm or lock file more) as they were.
	code, _, errOut := c.run("to", "test", "web:1.0", "--reason", "first")
	require.Equal(t, ExitOK, code, errOut)
	require.FileExists(t, ledgerPath)
	before = filesUnder(t, dir)
	for _, r := range []struct {
		args []string
		out  string
	}{
		{[]string{"current", "test", "web"}, digest.String()},
		{[]string{"history"}, digest.String()[:len("sha256:")+12]},
		{[]string{"ledger", "verify"}, "ledger ok: 1 record"},
	} {
		code, out, errOut := c.run(r.args...)
		require.Equal(t, ExitOK, code, "%v: %s", r.args, errOut)
		assert.Contains(t, out, r.out, "%v", r.args)
		assert.Equal(t, before, filesUnder(t, dir), "%v created or changed a file", r.args)
	}
}

// A read never migrates: a ledger written by a newer promote is an error
// that says to upgrade, and is left as it was.
func TestCLIReadOfANewerLedgerSaysUpgrade(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Dir(c.config)
	ledgerPath := filepath.Join(dir, "ledger.db")
	appendRecord(t, ledgerPath, &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "test", Digest: fmt.Sprintf("sha256:%064d", 1)})
	db, err := sql.Open("sqlite", ledgerPath)
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA user_version = 4`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	before := filesUnder(t, dir)

	for _, args := range [][]string{{"history"}, {"current", "test", "web"}, {"ledger", "verify"}} {
		code, _, errOut := c.run(args...)
		assert.Equal(t, ExitError, code, "%v", args)
		assert.Contains(t, errOut, "has schema version 4; this promote reads version 3: upgrade promote", "%v", args)
	}
	assert.Equal(t, before, filesUnder(t, dir))
}
