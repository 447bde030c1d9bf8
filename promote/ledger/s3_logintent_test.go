package ledger

// Intents on S3: a writer with the key signs one for each record it
// stores, and what writers with the key leave behind when they die is
// signed over by the next one, because its intent says a holder of the
// key wrote it.

import (
	"context"
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
