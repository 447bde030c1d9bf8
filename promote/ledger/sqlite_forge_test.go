package ledger

import (
	"context"
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

			err := CheckWriter(ctx, l)
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
