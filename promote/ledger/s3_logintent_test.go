package ledger

// Intents on S3: what writers with the key leave behind when they die is
// signed over by the next one, because its intent says a holder of the
// key wrote it; and what the check of the log costs.

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireIntent requires that the intent of record id is stored and
// checks for hash with key.
func requireIntent(t *testing.T, f *fakeS3, key *Key, id, hash string) {
	t.Helper()
	l := f.ledger("audit")
	require.NoError(t, logSigner{key}.checkIntent(f.object(l.intentKey(id)), id, hash))
}

// A writer that died between its leaf and its checkpoint leaves a leaf no
// checkpoint covers; the next writer with the key checks it (its intent)
// and signs the tree over it, and CheckWriter lets it.
func TestS3LogSignsTailOfWriterThatDiedBeforeItsCheckpoint(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	recs := loggedHistory(t, keyedS3(f, key), 2)
	dying := f.dyingLedger("/log/checkpoints/")
	dying.logSigner = logSigner{key}
	rec := newRecord("web", "prod", digestN(10), t0.Add(timeStep(10)))
	err := appendUnlogged(t, dying, rec, "is stored and logged as leaf 2, but no checkpoint of the log was signed")
	require.NotErrorIs(t, err, ErrLogTampered)
	requireIntent(t, f, key, rec.ID, rec.Hash)
	assert.EqualValues(t, 2, noteSize(mustCheckpoint(t, f.ledger("audit"))))

	require.NoError(t, CheckWriter(ctx, keyedS3(f, key), "web", "test"))
	appendAtHead(t, keyedS3(f, key), newRecord("web", "test", digestN(11), t0.Add(timeStep(11))))
	leaves := requireLog(t, f.ledger("audit"), key.Public)
	assert.Equal(t, []string{recs[0].ID, recs[1].ID, rec.ID}, ids2(leaves[:3]))
}

func ids2(leaves []Leaf) []string {
	out := make([]string, len(leaves))
	for i, lf := range leaves {
		out[i] = lf.ID
	}
	return out
}

// A record whose leaf lost its log id and that has no intent (a writer of
// a promote before intents that died between its leaf and its log id) is
// healed before the next record of its chain is stored: the heal finds it
// in a signed leaf and writes its log id. CheckWriter, which reads no
// more of the log than its tail, cannot tell it from a record forged
// into the chain and refuses the chain; ledger upgrade heals it too.
func TestS3LogHealsSignedLeafWithoutLogIDOrIntent(t *testing.T) {
	ctx := context.Background()
	for _, heal := range []string{"append", "upgrade"} {
		t.Run(heal, func(t *testing.T) {
			f := newFakeS3(t)
			key := testKey(t, "promote.test/ledger")
			recs := loggedHistory(t, keyedS3(f, key), 3)
			l := f.ledger("audit")
			f.remove(l.logIDKey(recs[1].ID))
			f.remove(l.intentKey(recs[1].ID))

			require.NoError(t, CheckWriter(ctx, keyedS3(f, key), "web", "test"), "another chain")
			err := CheckWriter(ctx, keyedS3(f, key), "web", "prod")
			require.ErrorIs(t, err, ErrLogTampered)
			assert.ErrorContains(t, err, "which no log index names")
			if heal == "upgrade" {
				up, err := keyedS3(f, key).Upgrade(ctx, UpgradeOptions{})
				require.NoError(t, err)
				assert.Equal(t, Upgraded{Size: 3, Signed: true}, up)
				require.NoError(t, CheckWriter(ctx, keyedS3(f, key), "web", "prod"))
			}
			appendAtHead(t, keyedS3(f, key), newRecord("web", "prod", digestN(20), t0.Add(timeStep(20))))
			requireLog(t, f.ledger("audit"), key.Public)
		})
	}
}

// An append that lost its race and tries again with the same id (and so
// another seq and hash) replaces the intent of its first attempt; one
// with the id of a stored record is refused and leaves that record's
// intent as it is.
func TestS3IntentOfRetriedIDIsReplaced(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	l, a, b := keyedS3(f, key), keyedS3(f, key), keyedS3(f, key)
	appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
	head, err := a.Head(ctx, "web", "prod")
	require.NoError(t, err)
	headB, err := b.Head(ctx, "web", "prod")
	require.NoError(t, err)
	require.NoError(t, a.Append(ctx, newRecord("web", "prod", digestN(2), t0), head))
	lost := newRecord("web", "prod", digestN(3), t0)
	lost.ID = "r-lost"
	require.ErrorIs(t, b.Append(ctx, lost, headB), ErrHeadMoved)
	assert.True(t, f.exists("audit/log/intents/r-lost"), "the intent went with the id claim")

	headB, err = b.Head(ctx, "web", "prod")
	require.NoError(t, err)
	require.NoError(t, b.Append(ctx, lost, headB))
	requireIntent(t, f, key, "r-lost", lost.Hash)

	dup := newRecord("api", "prod", digestN(4), t0)
	dup.ID = "r-lost"
	err = keyedS3(f, key).Append(ctx, dup, Head{})
	require.ErrorContains(t, err, "a record with this id is already in the ledger")
	requireIntent(t, f, key, "r-lost", lost.Hash)
	requireLog(t, f.ledger("audit"), key.Public)
}

// What CheckWriter costs a writer with the key, on a chain and a log of 40
// records: the log's key, its size hint, the chain's head hint, head record
// and the probe after it; then the hinted last leaf and the probe after
// it, a LIST of the checkpoints from the hint on and the newest, and the
// head's log id; then leaf 31, which holds the other hash of the root.
// Without a key, the log's key alone.
func TestS3CheckWriterRequests(t *testing.T) {
	ctx := context.Background()
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			f := newFakeS3(t)
			var key *Key
			if keyed {
				key = testKey(t, "promote.test/ledger")
			}
			seed := keyedS3(f, key)
			for i := range 40 {
				appendAtHead(t, seed, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
			}
			l, reqs := f.countingLedger("audit")
			l.logSigner = logSigner{key}
			require.NoError(t, CheckWriter(ctx, l, "web", "prod"))
			t.Logf("CheckWriter: %d requests: %d GET, %d PUT, %d LIST",
				reqs.all.Load(), reqs.gets.Load(), reqs.puts.Load(), reqs.lists.Load())
			assert.Zero(t, reqs.puts.Load(), "it writes nothing")
			if !keyed {
				assert.EqualValues(t, 1, reqs.all.Load())
				return
			}
			// 10 GETs and a LIST check the log and the chain's head; the
			// rest prove the head included in the newest checkpoint
			// (Authentic): its leaf index, body, and the leaves holding
			// its inclusion proof.
			assert.EqualValues(t, 28, reqs.gets.Load())
			assert.EqualValues(t, 2, reqs.lists.Load())
		})
	}
}

func TestFrontierLeaves(t *testing.T) {
	for size, want := range map[int64][]int64{0: nil, 1: nil, 2: nil, 3: {1}, 7: {3, 5}, 40: {31}, 41: {31, 39}, 64: nil} {
		assert.Equal(t, want, frontierLeaves(size), "size %d", size)
	}
}
