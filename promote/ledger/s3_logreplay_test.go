package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A genuine record, with its genuine intent, replayed as an extra leaf
// after the newest checkpoint (its tree hashes computed as a writer would):
// a writer with the key neither goes on from it nor signs over it.
func TestS3ReplayedLeafIsNotSignedOver(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/forge")
	recs := loggedHistory(t, keyedS3(f, key), 3)
	l := f.ledger("audit")
	var tree memTree
	for _, k := range f.keys("audit/log/leaves/") {
		var lf s3Leaf
		require.NoError(t, json.Unmarshal(f.object(k), &lf))
		b, _, err := decodeObject(f.object(lf.Record))
		require.NoError(t, err)
		_, _, err = tree.add(b)
		require.NoError(t, err)
	}
	var ix idIndex
	require.NoError(t, json.Unmarshal(f.object(l.idKey(recs[0].ID)), &ix))
	body, hash, err := decodeObject(f.object(ix.Record))
	require.NoError(t, err)
	n := tree.size
	_, hashes, err := tree.add(body)
	require.NoError(t, err)
	lf := s3Leaf{ID: recs[0].ID, Record: ix.Record, Hash: hash}
	for _, h := range hashes {
		lf.Stored = append(lf.Stored, append([]byte(nil), h[:]...))
	}
	data, err := json.Marshal(lf)
	require.NoError(t, err)
	f.put(l.leafKey(n), data)
	f.put(l.logHintKey(), fmt.Appendf(nil, `{"size":%d}`, n+1))

	require.ErrorIs(t, CheckWriter(ctx, keyedS3(f, key), "web", "prod"), ErrLogTampered)
	w := keyedS3(f, key)
	rec := newRecord("web", "prod", digestN(50), t0.Add(2*time.Hour))
	head, err := w.Head(ctx, "web", "prod")
	require.NoError(t, err)
	err = w.Append(ctx, rec, head)
	require.ErrorIs(t, err, ErrLogTampered)
	assert.NotErrorIs(t, err, ErrLogBehind, "a refusal, not a warning")
	note, err := f.ledger("audit").Checkpoint(ctx)
	require.NoError(t, err)
	cp, err := ParseNote(note)
	require.NoError(t, err)
	assert.Less(t, cp.Size, n+1, "no checkpoint covers the replayed leaf")
}
