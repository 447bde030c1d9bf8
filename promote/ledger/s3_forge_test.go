package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A writer that holds the key never signs what a writer of the bucket
// without it put there: a forged record logged at the tail of the log
// (with the log's size hint left alone, or moved past it), a forged record
// at a chain's tail that no leaf logs, or a history rewritten with its
// log rebuilt and its checkpoints and log/key deleted. CheckWriter refuses
// before anything is written, Append refuses (never as a log merely
// behind), and so does Upgrade; no checkpoint is signed over the forgery.
// Append refuses before it stores its record wherever it can see the
// forgery then: everywhere but a forged leaf past the size hint, which a
// writer finds only when it loses that leaf to it.
func TestS3KeyHolderSignsNothingForgedIntoTheBucket(t *testing.T) {
	ctx := context.Background()
	type forgery struct {
		forge  func(raw s3Raw, recs []Record) (app, env string)
		stored bool // whether the refused append stored its record
		signed int64
	}
	forged := func(id string) Record {
		r := *newRecord("web", "prod", digestN(666), t0.Add(time.Hour))
		r.ID, r.MediaType = id, MediaType
		return r
	}
	for name, tc := range map[string]forgery{
		"a record logged at the tail": {func(raw s3Raw, _ []Record) (string, string) {
			raw.appendForged(forged("r-forged"), false)
			return "web", "prod"
		}, true, 3},
		"a record logged at the tail, the hint moved past it": {func(raw s3Raw, _ []Record) (string, string) {
			raw.appendForged(forged("r-forged"), true)
			return "web", "prod"
		}, false, 3},
		"a record added to a chain but not to the log": {func(raw s3Raw, recs []Record) (string, string) {
			r := *newRecord("api", "prod", digestN(667), t0.Add(time.Hour))
			r.ID, r.MediaType, r.Seq, r.PrevHash = "r-unlogged", MediaType, recs[2].Seq+1, recs[2].Hash
			raw.rewrite(r) // the chain's next seq: nothing to move up
			return "api", "prod"
		}, false, 3},
		"a history rewritten, its log rebuilt, its checkpoints and key deleted": {func(raw s3Raw, recs []Record) (string, string) {
			r := recs[1]
			r.Reason = "approved by nobody"
			raw.rewrite(r)
			raw.rebuildLog(ids(recs))
			return "web", "test"
		}, false, 0},
		"the same, the intents kept": {func(raw s3Raw, recs []Record) (string, string) {
			intents := map[string][]byte{}
			for _, k := range raw.f.keys("audit/log/intents/") {
				intents[k] = raw.f.object(k)
			}
			require.Len(t, intents, 3)
			r := recs[1]
			r.Reason = "approved by nobody"
			raw.rewrite(r)
			raw.rebuildLog(ids(recs))
			for k, v := range intents {
				raw.f.put(k, v)
			}
			return "web", "test"
		}, false, 0},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeS3(t)
			key := testKey(t, "promote.test/forge")
			recs := loggedHistory(t, keyedS3(f, key), 3) // web/test, web/prod, api/prod
			app, env := tc.forge(s3Raw{f}, recs)

			err := CheckWriter(ctx, keyedS3(f, key), app, env)
			require.ErrorIs(t, err, ErrLogTampered, "refused before anything is written")
			l := keyedS3(f, key)
			rec := newRecord(app, env, digestN(50), t0.Add(2*time.Hour))
			head, err := l.Head(ctx, app, env)
			require.NoError(t, err)
			err = l.Append(ctx, rec, head)
			require.ErrorIs(t, err, ErrLogTampered, "and by the append itself")
			assert.NotErrorIs(t, err, ErrLogBehind, "not a log merely behind: the engine fails")
			for _, opts := range []UpgradeOptions{{}, {SignUnsigned: tc.signed > 0}} {
				_, err = keyedS3(f, key).Upgrade(ctx, opts)
				require.ErrorIs(t, err, ErrLogTampered, "upgrade signs none of it either (%+v)", opts)
			}
			note := mustCheckpoint(t, f.ledger("audit"))
			if tc.signed == 0 {
				assert.Nil(t, note, "no checkpoint signed over the forgery")
			} else {
				cp, err := ParseNote(note)
				require.NoError(t, err)
				assert.Equal(t, tc.signed, cp.Size, "no checkpoint signed over the forgery")
			}
			got, err := f.ledger("audit").RecordsChecked(ctx, Query{Digest: digestN(50)})
			require.NoError(t, err)
			assert.Equal(t, tc.stored, len(got) == 1, "whether the refused append stored its record")
		})
	}
}
