package ledger

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestS3RecordsFiltersAndOrder(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestS3(t)
	recs := seedHistory(t, l)
	ids := func(q Query) []string {
		t.Helper()
		got, err := l.Records(ctx, q)
		require.NoError(t, err)
		out := []string{}
		for _, r := range got {
			out = append(out, r.ID)
		}
		return out
	}
	id := func(i ...int) []string {
		out := []string{}
		for _, n := range i {
			out = append(out, recs[n].ID)
		}
		return out
	}
	assert.Equal(t, id(5, 4, 3, 2, 1, 0), ids(Query{}), "newest first")
	assert.Equal(t, id(5, 4), ids(Query{Limit: 2}))
	assert.Equal(t, id(3, 2), ids(Query{Limit: 2, Offset: 2}), "paged")
	assert.Equal(t, id(1, 0), ids(Query{Offset: 4}))
	assert.Empty(t, ids(Query{Offset: 6}))
	assert.Equal(t, id(4, 3, 1, 0), ids(Query{App: "web"}))
	assert.Equal(t, id(5, 3, 2, 0), ids(Query{Env: "test"}))
	assert.Equal(t, id(3, 0), ids(Query{App: "web", Env: "test"}))
	assert.Equal(t, id(0), ids(Query{App: "web", Env: "test", Offset: 1}))
	assert.Equal(t, id(4, 2), ids(Query{Kinds: []Kind{KindRollback, KindRejected}}))
	assert.Equal(t, id(4, 1, 0), ids(Query{Digest: digestN(1)}))
	assert.Equal(t, id(4, 1), ids(Query{Digest: digestN(1), Env: "prod"}))
	assert.Equal(t, id(1), ids(Query{App: "web", Env: "prod", Kinds: []Kind{KindPromotion}}))
	assert.Equal(t, id(3, 2), ids(Query{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}))
	assert.Equal(t, id(5), ids(Query{Since: t0.Add(5 * time.Minute).In(time.FixedZone("X", -7200))}))
	assert.Empty(t, ids(Query{App: "nope"}))
	assert.Empty(t, ids(Query{App: "nope", Env: "prod"}))
	assert.Empty(t, ids(Query{App: "we"}), "an app is a whole key level, not a prefix")

	a := newRecord("db", "test", digestN(7), t0)
	b := newRecord("db", "test", digestN(8), t0)
	appendAtHead(t, l, a)
	appendAtHead(t, l, b)
	assert.Equal(t, []string{b.ID, a.ID}, ids(Query{App: "db"}), "same time: the higher seq is newer")

	got, err := l.Records(ctx, Query{App: "web", Env: "prod"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, *recs[4], got[0], "records decode to what Append stored")
}

func TestS3ChainOrderFollowsSeqNotClock(t *testing.T) {
	l, _ := openTestS3(t)
	for i := 0; i < 3; i++ {
		appendAtHead(t, l, newRecord("web", "prod", digestN(i+1), t0.Add(-time.Duration(i)*time.Hour)))
	}
	recs, err := l.Records(context.Background(), Query{App: "web", Env: "prod", Limit: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, int64(3), recs[0].Seq)
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
