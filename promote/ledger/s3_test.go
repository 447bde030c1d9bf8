package ledger

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestS3AppendHeadGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)

	head, err := l.Head(ctx, "web", "test")
	require.NoError(t, err)
	assert.Equal(t, Head{}, head, "an empty chain has the zero head")

	first := newRecord("web", "test", digestN(1), t0)
	require.NoError(t, l.Append(ctx, first, Head{}))
	assert.Equal(t, int64(1), first.Seq)
	assert.Equal(t, "", first.PrevHash)
	assert.Equal(t, MediaType, first.MediaType)
	assert.Regexp(t, regexp.MustCompile(`^r-[0-9a-f]{12}$`), first.ID)
	body, err := first.Body()
	require.NoError(t, err)
	assert.Equal(t, HashBody(body), first.Hash)

	second := newRecord("web", "test", digestN(2), t0.Add(time.Minute))
	second.Kind = KindRollback
	second.Previous = digestN(1)
	require.NoError(t, l.Append(ctx, second, Head{Seq: 1, Hash: first.Hash}))
	assert.Equal(t, first.Hash, second.PrevHash)

	// A second ledger (another runner) sees the same head and records.
	other := f.ledger("audit")
	head, err = other.Head(ctx, "web", "test")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 2, Hash: second.Hash}, head)
	for _, want := range []*Record{first, second} {
		got, err := other.Get(ctx, want.ID)
		require.NoError(t, err)
		assert.Equal(t, *want, got)
	}
	_, err = other.Get(ctx, "r-000000000000")
	require.ErrorIs(t, err, errs.ErrNotFound)
	assert.Contains(t, err.Error(), "r-000000000000")
	requireLinearChain(t, other, "web", "test", 2)
}

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

func TestS3AppendFillsTimeIDAndUTC(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestS3(t)
	zero := newRecord("web", "test", digestN(1), time.Time{})
	before := time.Now()
	appendAtHead(t, l, zero)
	assert.False(t, zero.Time.Before(before.Add(-time.Second)))
	assert.Equal(t, time.UTC, zero.Time.Location())

	local := newRecord("web", "test", digestN(2), time.Date(2026, 3, 1, 12, 0, 0, 5, time.FixedZone("CET", 3600)))
	local.ID = "r-chosen"
	appendAtHead(t, l, local)
	assert.Equal(t, time.Date(2026, 3, 1, 11, 0, 0, 5, time.UTC), local.Time)
	got, err := l.Get(ctx, "r-chosen")
	require.NoError(t, err)
	assert.Equal(t, *local, got)
}

func TestS3AppendRejectsInvalidRecords(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestS3(t)
	for name, spoil := range map[string]func(r *Record){
		"no app": func(r *Record) { r.App = "" }, "no env": func(r *Record) { r.Env = "" },
		"no kind": func(r *Record) { r.Kind = "" }, "no digest": func(r *Record) { r.Digest = "" },
		"bad kind": func(r *Record) { r.Kind = "deletion" },
	} {
		rec := newRecord("web", "test", digestN(1), t0)
		spoil(rec)
		err := l.Append(ctx, rec, Head{})
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, ErrHeadMoved, name)
	}
	require.Error(t, l.Append(ctx, nil, Head{}))
	recs, err := l.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Empty(t, recs, "nothing was stored")
}

func TestS3AppendCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	first := newRecord("web", "prod", digestN(1), t0)
	require.NoError(t, l.Append(ctx, first, Head{}))

	for _, expected := range []Head{
		{}, {Seq: 1, Hash: "sha256:forked"}, {Seq: 2, Hash: first.Hash},
		{Seq: 1, Hash: ""}, {Seq: 0, Hash: first.Hash}, {Seq: 7, Hash: "sha256:nothing"}, {Seq: -1},
	} {
		rec := newRecord("web", "prod", digestN(2), t0.Add(time.Minute))
		before := *rec
		err := l.Append(ctx, rec, expected)
		require.ErrorIs(t, err, ErrHeadMoved, "expected head %+v", expected)
		assert.Contains(t, err.Error(), "web")
		assert.Equal(t, before, *rec, "a refused record is left as it was")
	}
	recs := requireLinearChain(t, l, "web", "prod", 1)
	assert.Equal(t, first.ID, recs[0].ID)
	assert.False(t, f.exists("audit/records/web/prod/00000000000000000002.json"))

	other := newRecord("web", "test", digestN(3), t0)
	require.ErrorIs(t, l.Append(ctx, other, Head{Seq: 1, Hash: first.Hash}), ErrHeadMoved)
	require.NoError(t, l.Append(ctx, other, Head{}))
}

// The race itself: a second runner appends after the same head; its
// If-None-Match PUT gets 412 and it reports ErrHeadMoved, storing no record
// (its id index stays behind, stale: Get ignores it, a new claim replaces it).
func TestS3AppendLosesRaceWithHeadMoved(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	a, b := f.ledger("audit"), f.ledger("audit")
	appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
	head, err := a.Head(ctx, "web", "prod")
	require.NoError(t, err)
	headB, err := b.Head(ctx, "web", "prod")
	require.NoError(t, err)
	require.NoError(t, a.Append(ctx, newRecord("web", "prod", digestN(2), t0), head))
	lost := newRecord("web", "prod", digestN(3), t0)
	lost.ID = "r-lost"
	err = b.Append(ctx, lost, headB)
	require.ErrorIs(t, err, ErrHeadMoved)
	assert.Contains(t, err.Error(), "already has seq 2")
	assert.False(t, f.exists("audit/records/web/prod/00000000000000000003.json"))
	_, err = l.Get(ctx, "r-lost")
	require.ErrorIs(t, err, errs.ErrNotFound, "the stale index finds nothing")

	// The loser re-reads and wins, even with the same id.
	headB, err = b.Head(ctx, "web", "prod")
	require.NoError(t, err)
	require.NoError(t, b.Append(ctx, lost, headB))
	got, err := l.Get(ctx, "r-lost")
	require.NoError(t, err)
	assert.Equal(t, int64(3), got.Seq)
	requireLinearChain(t, l, "web", "prod", 3)
}

func TestS3AppendCancelledStoresNothing(t *testing.T) {
	l, _ := openTestS3(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecord("web", "prod", digestN(1), t0)
	require.ErrorIs(t, l.Append(ctx, rec, Head{}), context.Canceled)
	assert.Zero(t, rec.Seq)
	appendAtHead(t, l, newRecord("web", "prod", digestN(2), t0))
	requireLinearChain(t, l, "web", "prod", 1)
}

func TestS3AppendDuplicateIDIsNotHeadMoved(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	a := newRecord("web", "test", digestN(1), t0)
	a.ID = "r-same"
	appendAtHead(t, l, a)
	b := newRecord("api", "test", digestN(2), t0)
	b.ID = "r-same"
	err := l.Append(ctx, b, Head{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrHeadMoved)
	assert.Contains(t, err.Error(), "r-same")
	assert.False(t, f.exists("audit/records/api/test/00000000000000000001.json"))

	// A stale index (an append that died before its record) is taken over.
	f.put("audit/ids/r-stale", []byte(`{"record":"audit/records/api/test/00000000000000000001.json"}`))
	_, err = l.Get(ctx, "r-stale")
	require.ErrorIs(t, err, errs.ErrNotFound, "an index without its record finds nothing")
	c := newRecord("api", "test", digestN(3), t0)
	c.ID = "r-stale"
	require.NoError(t, l.Append(ctx, c, Head{}))
	got, err := l.Get(ctx, "r-stale")
	require.NoError(t, err)
	assert.Equal(t, *c, got)
}
