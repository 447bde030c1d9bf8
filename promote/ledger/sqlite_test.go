package ledger

// The SQLite backend beyond the conformance suite: the file as an auditor
// (or an editor) reads it with SQL, Verify's findings about its columns and
// its limit, and the lock files.

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistoryViewIsReadable(t *testing.T) {
	l, path := openTestLedger(t)
	recs := seedHistory(t, l)
	db := openRaw(t, path)
	rows, err := db.Query(`SELECT time, app, env, seq, kind, digest, actor, reason, id FROM history`)
	require.NoError(t, err)
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var tm, app, env, kind, digest, actor, reason, id string
		var seq int64
		require.NoError(t, rows.Scan(&tm, &app, &env, &seq, &kind, &digest, &actor, &reason, &id))
		want := recs[i]
		assert.Equal(t, want.Time.Format(timeLayout), tm)
		assert.Equal(t, []any{want.App, want.Env, want.Seq, string(want.Kind), want.Digest, want.Reason, want.ID},
			[]any{app, env, seq, kind, digest, reason, id})
		assert.Equal(t, "ci@runner-1", actor)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, len(recs), i, "history is oldest first")
}

// openRaw opens the ledger file the way an auditor (or an attacker) would,
// with no help from this package.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	return db
}

func TestRecordsAreAppendOnlyInSQL(t *testing.T) {
	l, path := openTestLedger(t)
	seedHistory(t, l)
	db := openRaw(t, path)
	_, err := db.Exec(`UPDATE records SET digest = 'x' WHERE seq = 1`)
	assert.ErrorContains(t, err, "append-only")
	_, err = db.Exec(`DELETE FROM records`)
	assert.ErrorContains(t, err, "append-only")
}

// tamperedSQLite is tamperedStore on a new SQLite store, with its editor.
func tamperedSQLite(t *testing.T) (Ledger, *sqliteRaw, []*Record) {
	t.Helper()
	s := newSQLiteStore(t)
	l, prod := tamperedStore(t, s)
	return l, s.raw.(*sqliteRaw), prod
}

func TestSQLiteVerifyFindsEditedColumn(t *testing.T) {
	l, raw, _ := tamperedSQLite(t)
	raw.exec(`UPDATE records SET digest = 'sha256:evil'`+whereSeq, "web", "prod", 3)
	requireFirstProblem(t, l, 3, "column digest")
}

func TestSQLiteVerifyFindsNonIntegerSeq(t *testing.T) {
	l, raw, _ := tamperedSQLite(t)
	raw.exec(`UPDATE records SET seq = 'two'`+whereSeq, "web", "prod", 2)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err, "a mangled row is reported, not a failure of the walk")
	require.False(t, rep.OK())
	assert.Equal(t, int64(3), rep.Problems[0].Seq, "seq 3 now follows seq 1")
}

// The limit stated on Verify: without an anchor outside the ledger, a
// re-hashed last record looks like an honest one. (On S3 the head hint is
// such an anchor: TestS3VerifyRehashedLastRecordAndHint.)
func TestSQLiteVerifyCannotSeeRehashedLastRecord(t *testing.T) {
	l, raw, prod := tamperedSQLite(t)
	edited := *prod[4]
	edited.Digest = "sha256:evil"
	raw.rewrite(edited)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK())

	head, err := l.Head(context.Background(), "web", "prod")
	require.NoError(t, err)
	assert.NotEqual(t, prod[4].Hash, head.Hash, "an anchored head would have caught it")
}

// The SQLite lock as files: what the conformance suite cannot see (its
// exclusion, waiting and cancellation are in conformance_lock_test.go).
func TestLockFilesArePrivateAndNamedByHash(t *testing.T) {
	l, path := openTestLedger(t)
	held, err := l.Lock(context.Background(), "web/../../x", "prod")
	require.NoError(t, err)
	held.Release()
	files, err := filepath.Glob(filepath.Join(path+".locks", "*.lock"))
	require.NoError(t, err)
	var chainLocks int
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
		if filepath.Base(f) != "open.lock" {
			chainLocks++
			assert.Regexp(t, `^[0-9a-f]{16}\.lock$`, filepath.Base(f))
		}
	}
	assert.Equal(t, 1, chainLocks)
}

// An OS file lock cannot be lost: its watched context lasts until stopped
// and Check succeeds until the lock is released.
func TestFileLeaseIsNeverLost(t *testing.T) {
	l, _ := openTestLedger(t)
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	watched, stop := held.Watch(context.Background())
	require.NoError(t, held.Check(context.Background()))
	assert.NoError(t, watched.Err())
	stop()
	assert.ErrorIs(t, watched.Err(), context.Canceled)
	held.Release()
	err = held.Check(context.Background())
	require.Error(t, err, "Check after Release")
	assert.NotErrorIs(t, err, ErrLeaseLost)
}
