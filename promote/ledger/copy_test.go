package ledger

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allRecords returns every record of l, keyed by id.
func allRecords(t *testing.T, l Ledger) map[string]Record {
	t.Helper()
	recs, err := l.Records(context.Background(), Query{})
	require.NoError(t, err)
	out := map[string]Record{}
	for _, r := range recs {
		out[r.ID] = r
	}
	return out
}

func TestCopySQLiteToS3ToSQLite(t *testing.T) {
	ctx := context.Background()
	src, _ := openTestLedger(t)
	seedHistory(t, src)
	for i := range 5 {
		appendAtHead(t, src, newRecord("team/web", "prod", digestN(20+i), t0.Add(timeStep(10+i))))
	}
	want := allRecords(t, src)
	require.Len(t, want, 11)

	s3l, _ := openTestS3(t)
	n, err := Copy(ctx, src, s3l)
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	assert.Equal(t, want, allRecords(t, s3l), "ids, seqs, prev_hash and hashes intact")

	back, err := Open(ctx, filepath.Join(t.TempDir(), "back.db"))
	require.NoError(t, err)
	defer back.Close()
	n, err = Copy(ctx, s3l, back)
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	assert.Equal(t, want, allRecords(t, back))
	for _, l := range []Ledger{s3l, back} {
		rep, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.Equal(t, Report{Chains: 4, Records: 11, Problems: []Problem{}}, rep)
		for _, r := range want {
			got, err := l.Get(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, r, got)
		}
	}
	requireLinearChain(t, back, "team/web", "prod", 5)
}

func TestCopyRefusesNonEmptyDestinationAndBrokenSource(t *testing.T) {
	ctx := context.Background()
	src, _ := openTestLedger(t)
	seedHistory(t, src)

	dst, f := openTestS3(t)
	appendAtHead(t, dst, newRecord("web", "prod", digestN(9), t0))
	n, err := Copy(ctx, src, dst)
	require.ErrorContains(t, err, "already has 1 records of web in prod")
	assert.Zero(t, n)
	assert.False(t, f.exists("audit/records/web/test/00000000000000000001.json"), "nothing was written")

	broken, f := openTestS3(t)
	seedHistory(t, broken)
	f.remove("audit/records/web/test/00000000000000000001.json")
	empty, _ := openTestLedger(t)
	_, err = Copy(ctx, broken, empty)
	require.ErrorContains(t, err, "the source does not verify")
	assert.Empty(t, allRecords(t, empty))
}

func TestImportChecksHashAndLinkage(t *testing.T) {
	ctx := context.Background()
	src, _ := openTestLedger(t)
	recs := seedHistory(t, src) // web/test has seq 1 (recs[0]) and 2 (recs[3])
	sqliteDst, _ := openTestLedger(t)
	s3Dst, _ := openTestS3(t)
	for name, dst := range map[string]importer{"sqlite": sqliteDst.(importer), "s3": s3Dst} {
		second := *recs[3]
		require.ErrorIs(t, dst.Import(ctx, second), ErrHeadMoved, "%s: seq 2 before seq 1", name)

		edited := *recs[0]
		edited.Digest = digestN(99)
		require.ErrorContains(t, dst.Import(ctx, edited), "not to its hash", name)

		noPrev := *recs[3]
		noPrev.PrevHash = ""
		require.ErrorContains(t, dst.Import(ctx, noPrev), "only seq 1 has none", name)

		require.NoError(t, dst.Import(ctx, *recs[0]), name)
		// The same record twice: SQLite finds the head moved, S3 the id taken.
		require.Error(t, dst.Import(ctx, *recs[0]), "%s: the same record twice", name)
		require.NoError(t, dst.Import(ctx, second), name)
		requireLinearChain(t, dst.(Ledger), "web", "test", 2)
	}
}

// A copy keeps the log's order: the destination is the same tree, so a
// checkpoint an auditor kept of the source holds for the copy.
func TestCopyKeepsTheLogsOrder(t *testing.T) {
	ctx := context.Background()
	key := testKey(t, "promote.test/copy")
	src, err := OpenWith(ctx, filepath.Join(t.TempDir(), "src.db"), Options{Key: key})
	require.NoError(t, err)
	defer src.Close()
	for i := range 9 {
		app := []string{"web", "api", "db"}[i%3]
		appendAtHead(t, src, newRecord(app, "prod", digestN(i+1), t0.Add(-timeStep(i)))) // times run backwards
	}
	kept, err := src.Checkpoint(ctx)
	require.NoError(t, err)

	dst, err := OpenWith(ctx, filepath.Join(t.TempDir(), "dst.db"), Options{Key: key})
	require.NoError(t, err)
	defer dst.Close()
	n, err := Copy(ctx, src, dst)
	require.NoError(t, err)
	assert.Equal(t, 9, n)
	rep, err := Audit(ctx, dst, AuditOptions{Verifier: key.Public, Kept: []Kept{{Source: "src", Note: kept}}})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep.Problems)
	copied, err := dst.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, string(kept), string(copied), "the same tree, signed by the same key")
}
