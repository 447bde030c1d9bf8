package main

import (
	"database/sql"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// editLedgerBody edits the body of the record id in the harness's SQLite
// ledger behind promote's back, its hash left as it was.
func (c *harness) editLedgerBody(id, old, new string) {
	c.t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(c.config), "ledger.db"))
	require.NoError(c.t, err)
	defer db.Close()
	_, err = db.Exec(`DROP TRIGGER records_no_update`)
	require.NoError(c.t, err)
	res, err := db.Exec(`UPDATE records SET body = replace(body, ?, ?) WHERE id = ? AND instr(body, ?) > 0`, old, new, id, old)
	require.NoError(c.t, err)
	n, err := res.RowsAffected()
	require.NoError(c.t, err)
	require.Equal(c.t, int64(1), n)
}

// show prints a record that does not check out marked and exits 1; history
// marks its row (text, JSON, CSV) and still lists the others.
func TestCLIShowAndHistoryMarkRecordsThatDoNotCheckOut(t *testing.T) {
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/web:2.0", regtest.Image(t, 1, regtest.Labels("2.0"), "1000"))
	for _, ref := range []string{"web:1.0", "web:2.0"} {
		code, _, errOut := c.run("to", "test", ref)
		require.Equal(t, ExitOK, code, errOut)
	}
	code, doc, res := c.runJSON("history")
	require.Equal(t, ExitOK, code, doc.Error)
	recs := res["records"].([]any)
	require.Len(t, recs, 2)
	edited, clean := recs[1].(map[string]any)["id"].(string), recs[0].(map[string]any)["id"].(string)
	assert.Equal(t, true, recs[0].(map[string]any)["verified"])
	c.editLedgerBody(edited, `"kind":"promotion"`, `"kind":"rollback"`)

	code, out, errOut := c.run("show", edited)
	assert.Equal(t, ExitError, code, "show of a record that does not check out fails")
	assert.Contains(t, out, "DOES NOT CHECK OUT: body hashes to")
	assert.Contains(t, out, edited, "the record is still shown")
	assert.Contains(t, errOut, "promote ledger verify")
	code, out, _ = c.run("show", clean)
	assert.Equal(t, ExitOK, code)
	assert.NotContains(t, out, "DOES NOT CHECK OUT")

	code, doc, res = c.runJSON("show", edited)
	assert.Equal(t, ExitError, code)
	assert.Equal(t, ExitError, doc.ExitCode)
	assert.Contains(t, doc.Error, "promote ledger verify")
	assert.Equal(t, false, res["verified"])
	assert.Contains(t, res["problem"], "the record was edited")
	assert.Equal(t, edited, res["id"])

	code, out, errOut = c.run("history")
	require.Equal(t, ExitOK, code, errOut)
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, edited):
			assert.Contains(t, line, "DOES NOT CHECK OUT")
		case strings.Contains(line, clean):
			assert.NotContains(t, line, "DOES NOT CHECK OUT")
		}
	}
	assert.Contains(t, out, "1 record does not check out")
	assert.Contains(t, out, "promote ledger verify")

	code, doc, res = c.runJSON("history")
	require.Equal(t, ExitOK, code, doc.Error)
	recs = res["records"].([]any)
	require.Len(t, recs, 2, "history still lists every record")
	for _, r := range recs {
		r := r.(map[string]any)
		assert.Equal(t, r["id"] != edited, r["verified"], "%s", r["id"])
		if r["id"] == edited {
			assert.Contains(t, r["problem"], "the record was edited")
		} else {
			assert.Nil(t, r["problem"])
		}
	}

	code, out, _ = c.run("history", "--output", "csv")
	require.Equal(t, ExitOK, code)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err, out)
	require.Len(t, rows, 3)
	n := len(rows[0])
	assert.Equal(t, []string{"verified", "problem", "policies", "break_glass"}, rows[0][n-4:])
	for _, row := range rows[1:] {
		edit := strings.Contains(strings.Join(row, ","), edited)
		assert.Equal(t, map[bool]string{true: "false", false: "true"}[edit], row[n-4])
		assert.Equal(t, edit, row[n-3] != "")
	}
}
