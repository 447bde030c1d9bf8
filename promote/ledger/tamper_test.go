package ledger

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tamperedLedger writes two chains, (web, prod) with five records and
// (api, test) with three, and opens the file a second time as an editor
// with no regard for this package: the append-only triggers are dropped
// first, as anyone with write access to the file can.
func tamperedLedger(t *testing.T) (Ledger, *sql.DB, []*Record) {
	t.Helper()
	l, path := openTestLedger(t)
	var prod []*Record
	for i := range 5 {
		rec := newRecord("web", "prod", digestN(i+1), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		prod = append(prod, rec)
	}
	for i := range 3 {
		appendAtHead(t, l, newRecord("api", "test", digestN(i+10), t0.Add(timeStep(i))))
	}
	db := openRaw(t, path)
	tamper(t, db, `DROP TRIGGER records_no_update`, `DROP TRIGGER records_no_delete`)
	return l, db, prod
}

func tamper(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

// requireFirstProblem runs Verify and asserts that the first record it
// names is seq in (web, prod), with a message containing msg.
func requireFirstProblem(t *testing.T, l Ledger, seq int64, msg string) Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	require.False(t, rep.OK(), "verify missed the tampering")
	first := rep.Problems[0]
	assert.Equal(t, "web", first.App)
	assert.Equal(t, "prod", first.Env)
	assert.Equal(t, seq, first.Seq, "first problem: %s", first.Msg)
	assert.Contains(t, first.Msg, msg)
	assert.Equal(t, 2, rep.Chains)
	for _, p := range rep.Problems {
		assert.Equal(t, "web", p.App, "the untouched chain checks out: %+v", p)
	}
	return rep
}

func TestVerifyCleanLedger(t *testing.T) {
	l, _, _ := tamperedLedger(t)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Equal(t, Report{Chains: 2, Records: 8, Problems: []Problem{}}, rep)
}

func TestVerifyFindsEditedBody(t *testing.T) {
	l, db, prod := tamperedLedger(t)
	tamper(t, db, `UPDATE records SET body = replace(body, '"user":"ci"', '"user":"mallory"')
		WHERE app = 'web' AND env = 'prod' AND seq = 3`)
	rep := requireFirstProblem(t, l, 3, "the record was edited")
	assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
	assert.Len(t, rep.Problems, 1, "the records after it still link to its stored hash")
}

func TestVerifyFindsEditedColumn(t *testing.T) {
	l, db, _ := tamperedLedger(t)
	tamper(t, db, `UPDATE records SET digest = 'sha256:evil' WHERE app = 'web' AND env = 'prod' AND seq = 3`)
	requireFirstProblem(t, l, 3, "column digest")
}

func TestVerifyFindsDeletedRecord(t *testing.T) {
	l, db, _ := tamperedLedger(t)
	tamper(t, db, `DELETE FROM records WHERE app = 'web' AND env = 'prod' AND seq = 3`)
	requireFirstProblem(t, l, 4, "record 3 is missing")
}

func TestVerifyFindsSwappedRecords(t *testing.T) {
	l, db, _ := tamperedLedger(t)
	tamper(t, db,
		`UPDATE records SET seq = 100 WHERE app = 'web' AND env = 'prod' AND seq = 2`,
		`UPDATE records SET seq = 2 WHERE app = 'web' AND env = 'prod' AND seq = 3`,
		`UPDATE records SET seq = 3 WHERE app = 'web' AND env = 'prod' AND seq = 100`)
	requireFirstProblem(t, l, 2, "column seq")
}

func TestVerifyFindsForgedInsertedRecord(t *testing.T) {
	l, db, prod := tamperedLedger(t)
	// The forger makes room at seq 3 and inserts a record that is itself
	// perfect: right seq, linked to seq 2, hash recomputed. The displaced
	// original third record no longer fits where it now stands.
	forged := newRecord("web", "prod", "sha256:evil", t0.Add(timeStep(2)))
	forged.MediaType, forged.ID, forged.Seq, forged.PrevHash = MediaType, "r-f0f0f0f0f0f0", 3, prod[1].Hash
	body, err := forged.Body()
	require.NoError(t, err)
	tamper(t, db,
		`UPDATE records SET seq = seq + 100 WHERE app = 'web' AND env = 'prod' AND seq >= 3`,
		`UPDATE records SET seq = seq - 99 WHERE app = 'web' AND env = 'prod' AND seq >= 100`)
	_, err = db.Exec(`INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		VALUES (?, 'web', 'prod', 3, 'promotion', 'sha256:evil', ?, ?, ?, ?)`,
		forged.ID, forged.Time.Format(timeLayout), forged.PrevHash, HashBody(body), string(body))
	require.NoError(t, err)

	rep := requireFirstProblem(t, l, 4, "is not the hash")
	assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
	assert.Contains(t, rep.Problems[0].Msg, "column seq")
}

func TestVerifyFindsRehashedMiddleRecord(t *testing.T) {
	l, db, prod := tamperedLedger(t)
	edited := *prod[2]
	edited.Digest = "sha256:evil"
	body, err := edited.Body()
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE records SET digest = ?, body = ?, hash = ? WHERE id = ?`,
		edited.Digest, string(body), HashBody(body), edited.ID)
	require.NoError(t, err)
	// Seq 3 checks out on its own; the record after it no longer links.
	requireFirstProblem(t, l, 4, "is not the hash")
}

func TestVerifyFindsInvalidJSONBody(t *testing.T) {
	l, db, _ := tamperedLedger(t)
	tamper(t, db, `UPDATE records SET body = '{"id":' WHERE app = 'web' AND env = 'prod' AND seq = 2`)
	requireFirstProblem(t, l, 2, "not a valid JSON record")
}

func TestVerifyFindsNonIntegerSeq(t *testing.T) {
	l, db, _ := tamperedLedger(t)
	tamper(t, db, `UPDATE records SET seq = 'two' WHERE app = 'web' AND env = 'prod' AND seq = 2`)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err, "a mangled row is reported, not a failure of the walk")
	require.False(t, rep.OK())
	assert.Equal(t, int64(3), rep.Problems[0].Seq, "seq 3 now follows seq 1")
}

// TestVerifyCannotSeeRehashedLastRecord documents the limit stated on
// Verify: without an anchor outside the ledger, a re-hashed last record
// looks like an honest one.
func TestVerifyCannotSeeRehashedLastRecord(t *testing.T) {
	l, db, prod := tamperedLedger(t)
	edited := *prod[4]
	edited.Digest = "sha256:evil"
	body, err := edited.Body()
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE records SET digest = ?, body = ?, hash = ? WHERE id = ?`,
		edited.Digest, string(body), HashBody(body), edited.ID)
	require.NoError(t, err)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK())

	head, err := l.Head(context.Background(), "web", "prod")
	require.NoError(t, err)
	assert.NotEqual(t, prod[4].Hash, head.Hash, "an anchored head would have caught it")
}

// timeStep spaces the test records one minute apart.
func timeStep(i int) time.Duration { return time.Duration(i) * time.Minute }
