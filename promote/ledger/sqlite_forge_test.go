package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A writer that holds the key never signs what a writer of the file
// without it put there: a forged record at the tail of the log, or a
// history rewritten with its checkpoints deleted. It refuses before it
// writes (CheckWriter) and in its append's own transaction, and nothing
// it refuses is stored.
func TestKeyHolderSignsNothingForgedIntoTheFile(t *testing.T) {
	ctx := context.Background()
	for name, forge := range map[string]func(s *store, recs []Record) (app, env string){
		"a record added at the tail": func(s *store, _ []Record) (string, string) {
			forged := *newRecord("web", "prod", digestN(666), t0.Add(time.Hour))
			forged.ID, forged.MediaType = "r-forged", MediaType
			s.raw.(*sqliteRaw).appendForged(forged)
			return "web", "prod"
		},
		"a history rewritten, its checkpoints deleted": func(s *store, recs []Record) (string, string) {
			r := recs[1]
			r.Reason = "approved by nobody"
			s.raw.rewrite(r)
			s.raw.rebuildLog(ids(recs))
			return "web", "test"
		},
		"a record added to a chain but not to the log": func(s *store, recs []Record) (string, string) {
			r := *newRecord("api", "prod", digestN(667), t0.Add(time.Hour))
			r.ID, r.MediaType, r.Seq, r.PrevHash = "r-unlogged", MediaType, recs[2].Seq+1, recs[2].Hash
			s.raw.insert(r)
			return "api", "prod"
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSQLiteStore(t)
			key := testKey(t, "promote.test/forge")
			l := s.keyed(key)
			recs := loggedHistory(t, l, 3) // web/test, web/prod, api/prod
			app, env := forge(s, recs)

			err := CheckWriter(ctx, l, app, env)
			require.ErrorIs(t, err, ErrLogTampered, "refused before anything is written")
			rec := newRecord(app, env, digestN(50), t0.Add(2*time.Hour))
			head, err := l.Head(ctx, app, env)
			require.NoError(t, err)
			require.ErrorIs(t, l.Append(ctx, rec, head), ErrLogTampered, "and by the append itself")
			_, err = l.Upgrade(ctx, UpgradeOptions{})
			require.ErrorIs(t, err, ErrLogTampered, "upgrade signs none of it either")
			note, err := l.Checkpoint(ctx)
			require.NoError(t, err)
			if note != nil {
				cp, err := ParseNote(note)
				require.NoError(t, err)
				assert.EqualValues(t, 3, cp.Size, "no checkpoint signed over the forgery")
			}
			got, err := l.RecordsChecked(ctx, Query{Digest: digestN(50)})
			require.NoError(t, err)
			assert.Empty(t, got, "the refused append stored nothing")
		})
	}
}

// A checkpoint anyone put in the file is passed over, never trusted or
// looped on: one claiming 2^62+1 leaves (tlog's proofs would loop for ever
// on it) and one claiming more leaves than the log holds, neither signed by
// the key. Proofs come from the newest checkpoint that holds; verify names
// the junk.
func TestJunkCheckpointsInTheFileAreNotTrusted(t *testing.T) {
	ctx := context.Background()
	s := newSQLiteStore(t)
	key := testKey(t, "promote.test/junk")
	l := s.keyed(key)
	recs := loggedHistory(t, l, 3)
	raw := s.raw.(*sqliteRaw)
	raw.exec(`DROP TRIGGER IF EXISTS log_checkpoints_no_update`)
	for _, size := range []int64{1<<62 + 1, 7} {
		_, err := raw.conn().Exec(`INSERT INTO log_checkpoints (size, note) VALUES (?, ?)`, size,
			fmt.Sprintf("promote.test/junk\n%d\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— promote.test/junk AAAA\n", size))
		require.NoError(t, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p, err := Prove(ctx, l, recs[1].ID, key.Public)
		assert.NoError(t, err)
		assert.EqualValues(t, 3, p.TreeSize, "the newest checkpoint that holds")
		_, err = Prove(ctx, l, recs[1].ID, "")
		assert.NoError(t, err, "without a key: the newest that parses and fits the log")
		rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
		assert.NoError(t, err)
		assert.False(t, rep.OK())
		assert.True(t, anyProblem(rep, "too large"), "%+v", rep.Problems)
		assert.ErrorIs(t, CheckWriter(ctx, l, "web", "prod"), ErrLogTampered, "a writer refuses to go on from it")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a junk checkpoint hangs the reader")
	}
}

// Deleting the log_key row does not make a signed log unsigned to a writer
// holding the key: a record put in the file without its leaf is still
// refused, and upgrade signs none of it.
func TestDeletedLogKeyRowSwitchesNoCheckOff(t *testing.T) {
	ctx := context.Background()
	s := newSQLiteStore(t)
	key := testKey(t, "promote.test/logkey")
	l := s.keyed(key)
	recs := loggedHistory(t, l, 3)
	raw := s.raw.(*sqliteRaw)
	for _, stmt := range []string{`DROP TRIGGER IF EXISTS log_key_no_delete`, `DELETE FROM log_key`} {
		_, err := raw.conn().Exec(stmt)
		require.NoError(t, err, stmt)
	}
	forged := *newRecord("web", "prod", digestN(666), t0.Add(time.Hour))
	forged.ID, forged.MediaType, forged.Seq, forged.PrevHash = "r-forged", MediaType, recs[1].Seq+1, recs[1].Hash
	raw.insert(forged)

	assert.ErrorIs(t, CheckWriter(ctx, l, "web", "prod"), ErrLogTampered)
	_, err := l.Upgrade(ctx, UpgradeOptions{})
	assert.ErrorIs(t, err, ErrLogTampered)
	rec := newRecord("web", "prod", digestN(50), t0.Add(2*time.Hour))
	head, err := l.Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.ErrorIs(t, l.Append(ctx, rec, head), ErrLogTampered)
	_, err = Prove(ctx, l, "r-forged", key.Public)
	assert.Error(t, err, "nothing proves the forged record")
}
