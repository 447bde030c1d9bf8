package ledger

// The S3 backend beyond the conformance suite: the objects as an auditor
// reads them, the id index, and what a read of one chain costs.

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// The objects are what an auditor reads: one JSON record per key, the
// record as Append returned it, and the hashed bytes recoverable exactly.
func TestS3ObjectsAreReadableRecords(t *testing.T) {
	l, f := openTestS3(t)
	rec := newRecord("team/web", "..", digestN(1), t0)
	appendAtHead(t, l, rec)

	key := "audit/records/team%2Fweb/%2E%2E/00000000000000000001.json"
	obj := f.object(key)
	var stored Record
	require.NoError(t, json.Unmarshal(obj, &stored))
	assert.Equal(t, *rec, stored, "the object is the record, hash included")
	want, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(obj), "byte for byte json.Marshal of the record")
	body, hash, err := decodeObject(obj)
	require.NoError(t, err)
	assert.Equal(t, rec.Hash, hash)
	assert.Equal(t, rec.Hash, HashBody(body), "stripping the hash member gives the hashed bytes")

	var h hint
	require.NoError(t, json.Unmarshal(f.object("audit/heads/team%2Fweb/%2E%2E.json"), &h))
	assert.Equal(t, hint{Seq: 1, Hash: rec.Hash}, h)
	assert.JSONEq(t, `{"record":"`+key+`"}`, string(f.object("audit/ids/"+rec.ID)))

	app, env, seq, ok := l.recordKeyParts(key)
	assert.True(t, ok)
	assert.Equal(t, []any{"team/web", "..", int64(1)}, []any{app, env, seq})
	for _, bad := range []string{"audit/records/web/prod/1.json", "audit/records/web/prod/x/00000000000000000001.json",
		"audit/records/w%2fb/prod/00000000000000000001.json", "other/records/web/prod/00000000000000000001.json"} {
		_, _, _, ok := l.recordKeyParts(bad)
		assert.False(t, ok, bad)
	}
}

// A runner that died between its id index and its record leaves a stale
// index: Get finds nothing through it, and an append of that id takes it
// over. (An index that names another record refuses the id: see
// TestAppendDuplicateIDIsNotHeadMoved.)
func TestS3AppendTakesOverStaleIndex(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	f.put("audit/ids/r-stale", []byte(`{"record":"audit/records/api/test/00000000000000000001.json"}`))
	_, err := l.Get(ctx, "r-stale")
	require.ErrorIs(t, err, errs.ErrNotFound, "an index without its record finds nothing")
	c := newRecord("api", "test", digestN(3), t0)
	c.ID = "r-stale"
	require.NoError(t, l.Append(ctx, c, Head{}))
	got, err := l.Get(ctx, "r-stale")
	require.NoError(t, err)
	assert.Equal(t, *c, got)
}

// countingTransport counts the requests a client sends, by method.
type countingTransport struct {
	all, gets, puts, lists atomic.Int64
}

// What `current` costs on one chain: the hint, then the hinted record, a
// probe of the next and the record before (to check the link) together, and
// nothing else; walking further reads in batches.
func TestS3CurrentReadsNoMoreThanTheHead(t *testing.T) {
	ctx := context.Background()
	_, f := openTestS3(t)
	seed := f.ledger("audit")
	for i := range 40 {
		rec := newRecord("web", "prod", digestN(i), t0.Add(time.Duration(i)*time.Minute))
		if i == 5 {
			rec.Digest = digestN(1000)
		}
		appendAtHead(t, seed, rec)
	}
	l, reqs := f.countingLedger("audit")
	cur, err := l.Records(ctx, Query{App: "web", Env: "prod", Kinds: []Kind{KindPromotion, KindRollback}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, cur, 1)
	assert.Equal(t, int64(40), cur[0].Seq)
	assert.Equal(t, int64(4), reqs.gets.Load(), "hint, then the probe of 41, record 40 and record 39 (its link) together")
	assert.Zero(t, reqs.lists.Load(), "no listing")

	old, err := l.Records(ctx, Query{App: "web", Env: "prod", Digest: digestN(1000), Limit: 1})
	require.NoError(t, err)
	require.Len(t, old, 1)
	assert.Equal(t, int64(6), old[0].Seq)
	assert.Zero(t, reqs.lists.Load(), "walking a chain lists nothing")
}
