//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger"
)

// An auditor opens the embedded ledger with the sqlite3 shell and reads the
// history view and the raw records, hashes included.
func TestAuditorReadsLedgerWithSQLiteShell(t *testing.T) {
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatalf("the sqlite3 shell is required (apt-get install sqlite3; .ci/run installs it): %v", err)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	led, err := ledger.Open(ctx, path)
	require.NoError(t, err)
	defer led.Close()
	for i, d := range []string{"sha256:" + repeatHex('a'), "sha256:" + repeatHex('b')} {
		rec := &ledger.Record{Time: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC), Kind: ledger.KindPromotion,
			App: "web", Env: "prod", Repository: "r/prod/web", Digest: d, Actor: ledger.Actor{Identity: "ci:bot"}, Reason: "release"}
		head, err := led.Head(ctx, "web", "prod")
		require.NoError(t, err)
		require.NoError(t, led.Append(ctx, rec, head))
	}
	out, err := sqliteJSON(shell, path, "select * from history")
	require.NoError(t, err, string(out))
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(out, &rows), string(out))
	require.Len(t, rows, 2)
	assert.Equal(t, "web", rows[0]["app"])
	assert.Equal(t, "prod", rows[0]["env"])
	assert.Equal(t, "ci:bot", rows[0]["actor"])
	assert.Equal(t, "release", rows[0]["reason"])
	assert.EqualValues(t, 1, rows[0]["seq"])

	out, err = sqliteJSON(shell, path, "select seq, prev_hash, hash, body from records order by seq")
	require.NoError(t, err, string(out))
	require.NoError(t, json.Unmarshal(out, &rows), string(out))
	require.Len(t, rows, 2)
	assert.Equal(t, rows[0]["hash"], rows[1]["prev_hash"], "the chain is visible to the auditor")
	assert.Equal(t, ledger.HashBody([]byte(rows[1]["body"].(string))), rows[1]["hash"], "the hash is the SHA-256 of the stored body")
}

// sqliteJSON runs the sqlite3 shell's query in JSON mode; its output goes
// to the secret scan like every command's.
func sqliteJSON(shell, path, query string) ([]byte, error) {
	out, err := exec.Command(shell, "-json", path, query).CombinedOutput()
	collectCommand(shell, []string{"-json", path, query}, string(out), "")
	return out, err
}

func repeatHex(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
