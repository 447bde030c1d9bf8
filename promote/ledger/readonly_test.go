package ledger

// The conformance suite, read-only: a ledger opened with OpenReadOnly reads
// what its writers wrote and changes nothing, on every backend; and what
// OpenReadOnly makes of SQLite files that are missing, empty or not ours.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// dirContents lists every file and directory under dir, by path relative
// to dir, with a digest of each file's bytes and mode.
func dirContents(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel] = fmt.Sprintf("dir %v", fi.Mode())
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[rel] = fmt.Sprintf("%v %s", fi.Mode(), hex.EncodeToString(sum[:]))
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestReadOnlyReadsWhatWasWrittenAndWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		w, err := s.dial(ctx)
		require.NoError(t, err)
		seeded := seedHistory(t, w)
		all, err := w.RecordsChecked(ctx, Query{})
		require.NoError(t, err)
		chain, err := w.Records(ctx, Query{App: "web", Env: "test"})
		require.NoError(t, err)
		head, err := w.Head(ctx, "web", "test")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		before := s.contents()

		r, err := s.dialReadOnly(ctx)
		require.NoError(t, err)
		got, err := r.RecordsChecked(ctx, Query{})
		require.NoError(t, err)
		assert.Equal(t, all, got)
		gotChain, err := r.Records(ctx, Query{App: "web", Env: "test"})
		require.NoError(t, err)
		assert.Equal(t, chain, gotChain)
		gotHead, err := r.Head(ctx, "web", "test")
		require.NoError(t, err)
		assert.Equal(t, head, gotHead)
		rec, err := r.Get(ctx, seeded[2].ID)
		require.NoError(t, err)
		assert.Equal(t, *seeded[2], rec)
		_, err = r.Get(ctx, "r-none")
		assert.ErrorIs(t, err, errs.ErrNotFound)
		rep, err := r.Verify(ctx)
		require.NoError(t, err)
		assert.Equal(t, Report{Chains: 3, Records: len(seeded), Problems: []Problem{}}, rep)

		requireRefusesWrites(t, r, head)
		require.NoError(t, r.Close())
		assert.Equal(t, before, s.contents(), "a read-only ledger changed its storage")
	})
}

// requireRefusesWrites asserts that r refuses Append, Lock and Import with
// ErrReadOnly.
func requireRefusesWrites(t *testing.T, r Ledger, head Head) {
	t.Helper()
	ctx := context.Background()
	rec := newRecord("web", "test", digestN(9), t0.Add(timeStep(60)))
	err := r.Append(ctx, rec, head)
	require.ErrorIs(t, err, ErrReadOnly)
	assert.Zero(t, rec.Seq, "a refused append leaves the record as it was")
	_, err = r.Lock(ctx, "web", "test")
	require.ErrorIs(t, err, ErrReadOnly)
	imp, ok := r.(importer)
	require.True(t, ok, "%T imports, so Copy into it says read-only", r)
	copied := *rec
	copied.ID, copied.MediaType, copied.Seq, copied.PrevHash = "r-copied", MediaType, head.Seq+1, head.Hash
	rehash(t, &copied)
	require.ErrorIs(t, imp.Import(ctx, copied), ErrReadOnly)
}

// A missing SQLite ledger, and its missing directory, read as an empty
// ledger, and no file or directory appears.
func TestOpenReadOnlyMissingSQLiteIsEmpty(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, loc := range []string{filepath.Join(dir, "ledger.db"), "sqlite://" + filepath.Join(dir, "state", "nested", "ledger.db")} {
		l, err := OpenReadOnly(ctx, loc)
		require.NoError(t, err, loc)
		head, err := l.Head(ctx, "web", "prod")
		require.NoError(t, err)
		assert.Zero(t, head)
		recs, err := l.Records(ctx, Query{App: "web", Env: "prod", Limit: 1})
		require.NoError(t, err)
		assert.Empty(t, recs)
		checked, err := l.RecordsChecked(ctx, Query{})
		require.NoError(t, err)
		assert.Empty(t, checked)
		_, err = l.Get(ctx, "r-1")
		require.ErrorIs(t, err, errs.ErrNotFound)
		_, err = l.GetChecked(ctx, "r-1")
		require.ErrorIs(t, err, errs.ErrNotFound)
		rep, err := l.Verify(ctx)
		require.NoError(t, err)
		assert.Equal(t, Report{Problems: []Problem{}}, rep)
		_, err = Check(ctx, l)
		assert.ErrorContains(t, err, "no storage settings", "as for any SQLite ledger")
		requireRefusesWrites(t, l, Head{})
		require.NoError(t, l.Close())
	}
	assert.Empty(t, dirContents(t, dir), "reading created nothing")

	_, err := OpenReadOnly(ctx, "sqlite://")
	require.ErrorIs(t, err, errs.ErrConfig, "locations are checked as Open checks them")
}

// OpenReadOnly creates no lock directory, and an SQLite file that exists
// with no schema yet (an opener died before writing it) is empty, not an
// error, and stays as it is.
func TestOpenReadOnlySQLiteCreatesNothing(t *testing.T) {
	ctx := context.Background()
	l, path := openTestLedger(t)
	seedHistory(t, l)
	require.NoError(t, os.RemoveAll(path+".locks"))
	dir := filepath.Dir(path)

	r, err := OpenReadOnly(ctx, path)
	require.NoError(t, err)
	recs, err := r.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Len(t, recs, 6, "a reader sees what an open writer committed")
	require.NoError(t, r.Close())
	assert.NoDirExists(t, path+".locks")

	blank := filepath.Join(dir, "blank.db")
	require.NoError(t, os.WriteFile(blank, nil, 0o600))
	r, err = OpenReadOnly(ctx, blank)
	require.NoError(t, err)
	recs, err = r.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Empty(t, recs)
	require.NoError(t, r.Close())
	fi, err := os.Stat(blank)
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "no schema was written")
	assert.NoFileExists(t, blank+"-wal")

	_, err = OpenReadOnly(ctx, dir)
	assert.ErrorContains(t, err, "is a directory")
}

// A read never migrates: a ledger of another schema version, or a database
// of another application, is an error that says so, and is left unchanged.
func TestOpenReadOnlyRefusesOtherSchemas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"newer", fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion+1),
			fmt.Sprintf("has schema version %d; this promote reads version %d: upgrade promote", schemaVersion+1, schemaVersion)},
		{"older", `PRAGMA user_version = 0`, fmt.Sprintf("has schema version 0, older than version %d", schemaVersion)},
		{"foreign", `PRAGMA application_id = 7`, "is not a promote ledger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			l, err := Open(ctx, path)
			require.NoError(t, err)
			appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
			require.NoError(t, l.Close())
			db, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			_, err = db.Exec(tc.sql)
			require.NoError(t, err)
			require.NoError(t, db.Close())
			before := dirContents(t, filepath.Dir(path))

			_, err = OpenReadOnly(ctx, path)
			require.ErrorContains(t, err, tc.want)
			assert.Equal(t, before, dirContents(t, filepath.Dir(path)))
			_, err = Open(ctx, path)
			require.ErrorContains(t, err, tc.want, "Open refuses it alike")
		})
	}
}
