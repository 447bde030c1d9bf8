package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

func TestCLIAuditorsView(t *testing.T) {
	c := newCLI(t)
	d1 := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:root", regtest.Image(t, 1, regtest.Labels("1.1"), "root"))
	d2 := regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	for _, args := range [][]string{{"to", "test", "web:1.0"}, {"to", "test", "web:root", "--tag", "1.1"}} {
		c.run(args...)
	}
	between := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	code, _, errOut := c.run("to", "test", "web:2.0", "--reason", "release, with a comma")
	require.Equal(t, ExitOK, code, errOut)

	// history: filters, paging, CSV.
	code, doc, res := c.runJSON("history", "--kind", "promotion", "--limit", "1", "--page", "2")
	require.Equal(t, ExitOK, code, doc.Error)
	recs := res["records"].([]any)
	require.Len(t, recs, 1)
	assert.Equal(t, d1.String(), recs[0].(map[string]any)["digest"], "page 2 of promotions, newest first")

	code, doc, res = c.runJSON("history", "--since", between.Format(time.RFC3339Nano))
	require.Equal(t, ExitOK, code, doc.Error)
	require.Len(t, res["records"].([]any), 1)
	actor := res["records"].([]any)[0].(map[string]any)["actor"].(map[string]any)["identity"].(string)

	code, out, _ := c.run("history", "--actor", actor, "--output", "csv")
	require.Equal(t, ExitOK, code)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err, out)
	require.Len(t, rows, 4, "a header and three records")
	assert.Equal(t, "time", rows[0][0])
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	assert.Equal(t, "release, with a comma", rows[1][col["reason"]], "a comma survives CSV quoting")
	assert.NotEmpty(t, rows[1][col["actor_via"]], "how the actor was established")
	code, out, _ = c.run("history", "--actor", "nobody", "--output", "csv")
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, 1, strings.Count(out, "\n"), "only the header")

	code, _, errOut = c.run("current", "test", "web", "--output", "csv")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "no CSV form")
	code, _, errOut = c.run("history", "--page", "2")
	assert.Equal(t, ExitOK, code, errOut)
	code, _, errOut = c.run("history", "--since", "last tuesday")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "--since")

	// current --at: what test ran at a moment.
	code, out, _ = c.run("current", "test", "web", "--at", between.Format(time.RFC3339Nano))
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, c.reg.Host+"/test/web@"+d1.String()+"\n", out)
	code, out, _ = c.run("current", "test", "web")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, d2.String())
	code, _, _ = c.run("current", "test", "web", "--at", "2001-01-01")
	assert.Equal(t, ExitError, code, "nothing held then")

	// show: one record with its gate evidence.
	code, doc, res = c.runJSON("history", "--kind", "rejected")
	require.Equal(t, ExitOK, code, doc.Error)
	id := res["records"].([]any)[0].(map[string]any)["id"].(string)
	code, out, _ = c.run("show", id)
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "FAIL nonroot")
	assert.Contains(t, out, `"users"`, "the gate's evidence is shown")
	code, _, errOut = c.run("show", "r-nosuchrecord")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, errOut, "r-nosuchrecord")
}

func TestCLILedgerCopyAndCheck(t *testing.T) {
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, _, errOut := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)
	src := strings.TrimSuffix(c.config, "environments.yaml") + "ledger.db"
	dst := t.TempDir() + "/copy.db"
	code, out, errOut := c.run("ledger", "copy", "--from", src, "--to", dst)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "copied 1 records")
	code, _, errOut = c.run("ledger", "copy", "--from", src, "--to", dst)
	assert.NotEqual(t, ExitOK, code, "a destination whose chains are not empty is refused")
	assert.NotEmpty(t, errOut)
	code, doc, res := c.runJSON("ledger", "copy", "--from", src, "--to", dst)
	assert.NotEqual(t, ExitOK, code)
	assert.Equal(t, map[string]any{"from": src, "to": dst, "records": float64(0)}, res, "a refused copy says what it copied")
	code, doc, res = c.runJSON("ledger", "copy", "--from", "ftp://nowhere", "--to", dst)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, doc.Error, "opening ftp://nowhere")
	assert.Nil(t, res, "no result when a ledger cannot be opened")
	code, _, errOut = c.run("ledger", "copy", "--from", src)
	assert.Equal(t, ExitUsage, code, errOut)
	typo := filepath.Join(t.TempDir(), "ledgr.db")
	code, _, errOut = c.run("ledger", "copy", "--from", typo, "--to", filepath.Join(t.TempDir(), "other.db"))
	assert.Equal(t, ExitUsage, code, "a source with no records is a usage error")
	assert.Contains(t, errOut, "holds no records, so there is nothing to copy; check --from")
	_, err := os.Stat(typo)
	assert.True(t, os.IsNotExist(err), "a mistyped --from creates nothing")
	code, _, errOut = c.run("ledger", "check")
	assert.Equal(t, ExitError, code, "SQLite has no bucket settings to check")
	assert.Contains(t, errOut, "use an S3 ledger with Object Lock")
}
