package ledger

// The conformance suite, part four: what Records selects and in which
// order, on every backend.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedHistory writes six records into three chains, one minute apart.
func seedHistory(t *testing.T, l Ledger) []*Record {
	t.Helper()
	plan := []struct {
		app, env string
		kind     Kind
		digest   int
	}{
		{"web", "test", KindPromotion, 1},
		{"web", "prod", KindPromotion, 1},
		{"api", "test", KindRejected, 2},
		{"web", "test", KindPromotion, 3},
		{"web", "prod", KindRollback, 1},
		{"api", "test", KindPromotion, 4},
	}
	var out []*Record
	for i, p := range plan {
		rec := newRecord(p.app, p.env, digestN(p.digest), t0.Add(timeStep(i)))
		rec.Kind = p.kind
		appendAtHead(t, l, rec)
		out = append(out, rec)
	}
	return out
}

func TestRecordsFiltersAndOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
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
		assert.Equal(t, id(3, 2), ids(Query{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}),
			"since is inclusive, until exclusive")
		assert.Equal(t, id(5, 4), ids(Query{Since: t0.Add(3*time.Minute + time.Nanosecond)}))
		assert.Equal(t, id(0), ids(Query{Until: t0.Add(time.Nanosecond)}), "sub-second bounds order as times")
		assert.Equal(t, id(5), ids(Query{Since: t0.Add(5 * time.Minute).In(time.FixedZone("X", -7200))}),
			"bounds in other zones are compared as instants")
		assert.Empty(t, ids(Query{App: "nope"}))
		assert.Empty(t, ids(Query{App: "nope", Env: "prod"}))
		assert.Empty(t, ids(Query{App: "we"}), "an app is matched whole, not as a prefix")

		// Same time: the higher seq is newer.
		a := newRecord("db", "test", digestN(7), t0)
		b := newRecord("db", "test", digestN(8), t0)
		appendAtHead(t, l, a)
		appendAtHead(t, l, b)
		assert.Equal(t, []string{b.ID, a.ID}, ids(Query{App: "db"}))

		got, err := l.Records(ctx, Query{App: "web", Env: "prod"})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, *recs[4], got[0], "records decode to what Append stored")
	})
}

// A clock that steps back does not change which record of a chain is newest.
func TestChainOrderFollowsSeqNotClock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l := s.open()
		for i := range 3 {
			appendAtHead(t, l, newRecord("web", "prod", digestN(i+1), t0.Add(-time.Duration(i)*time.Hour)))
		}
		recs, err := l.Records(context.Background(), Query{App: "web", Env: "prod", Limit: 1})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, int64(3), recs[0].Seq)
		assert.Equal(t, digestN(3), recs[0].Digest)
	})
}

func TestRecordsByActorAndPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
		for i := range 5 {
			rec := newRecord("web", "prod", digestN(i+1), t0.Add(timeStep(i)))
			rec.Actor.Identity = []string{"github:alice", "gitlab:bob"}[i%2]
			appendAtHead(t, l, rec)
		}
		recs, err := l.Records(ctx, Query{Actor: "gitlab:bob"})
		require.NoError(t, err)
		require.Len(t, recs, 2)
		for _, r := range recs {
			assert.Equal(t, "gitlab:bob", r.Actor.Identity)
			assert.True(t, Query{Actor: "gitlab:bob"}.Matches(r))
		}
		page2, err := l.Records(ctx, Query{App: "web", Env: "prod", Limit: 2, Offset: 2})
		require.NoError(t, err)
		require.Len(t, page2, 2)
		assert.Equal(t, []int64{3, 2}, []int64{page2[0].Seq, page2[1].Seq}, "newest first, second page")
		rest, err := l.Records(ctx, Query{Offset: 4})
		require.NoError(t, err)
		assert.Len(t, rest, 1)
		assert.False(t, Query{Kinds: []Kind{KindRollback}}.Matches(recs[0]))
	})
}
