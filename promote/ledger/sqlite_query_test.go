package ledger

import (
	"context"
	"database/sql"
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
		rec := newRecord(p.app, p.env, digestN(p.digest), t0.Add(time.Duration(i)*time.Minute))
		rec.Kind = p.kind
		appendAtHead(t, l, rec)
		out = append(out, rec)
	}
	return out
}

func TestRecordsFiltersAndOrder(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
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
	assert.Equal(t, id(4, 3, 1, 0), ids(Query{App: "web"}))
	assert.Equal(t, id(5, 3, 2, 0), ids(Query{Env: "test"}))
	assert.Equal(t, id(3, 0), ids(Query{App: "web", Env: "test"}))
	assert.Equal(t, id(4, 2), ids(Query{Kinds: []Kind{KindRollback, KindRejected}}))
	assert.Equal(t, id(4, 1, 0), ids(Query{Digest: digestN(1)}))
	assert.Equal(t, id(4, 1), ids(Query{Digest: digestN(1), Env: "prod"}))
	assert.Equal(t, id(3, 2), ids(Query{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}),
		"since is inclusive, until exclusive")
	assert.Equal(t, id(5, 4), ids(Query{Since: t0.Add(3*time.Minute + time.Nanosecond)}))
	assert.Equal(t, id(0), ids(Query{Until: t0.Add(time.Nanosecond)}), "sub-second bounds order as times")
	assert.Equal(t, id(5), ids(Query{Since: t0.Add(5 * time.Minute).In(time.FixedZone("X", -7200))}),
		"bounds in other zones are compared as instants")
	assert.Empty(t, ids(Query{App: "nope"}))

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
}

func TestHistoryViewIsReadable(t *testing.T) {
	l, path := openTestLedger(t)
	recs := seedHistory(t, l)
	db := openRaw(t, path)
	rows, err := db.Query(`SELECT time, app, env, seq, kind, digest, actor, reason, id FROM history`)
	require.NoError(t, err)
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var tm, app, env, kind, digest, actor, reason, id string
		var seq int64
		require.NoError(t, rows.Scan(&tm, &app, &env, &seq, &kind, &digest, &actor, &reason, &id))
		want := recs[i]
		assert.Equal(t, want.Time.Format(timeLayout), tm)
		assert.Equal(t, []any{want.App, want.Env, want.Seq, string(want.Kind), want.Digest, want.Reason, want.ID},
			[]any{app, env, seq, kind, digest, reason, id})
		assert.Equal(t, "ci@runner-1", actor)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, len(recs), i, "history is oldest first")
}

// openRaw opens the ledger file the way an auditor (or an attacker) would,
// with no help from this package.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	return db
}

func TestRecordsAreAppendOnlyInSQL(t *testing.T) {
	l, path := openTestLedger(t)
	seedHistory(t, l)
	db := openRaw(t, path)
	_, err := db.Exec(`UPDATE records SET digest = 'x' WHERE seq = 1`)
	assert.ErrorContains(t, err, "append-only")
	_, err = db.Exec(`DELETE FROM records`)
	assert.ErrorContains(t, err, "append-only")
}

// A clock that steps back does not change which record of a chain is newest.
func TestChainOrderFollowsSeqNotClock(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
	for i := 0; i < 3; i++ {
		appendAtHead(t, l, newRecord("web", "prod", digestN(i+1), t0.Add(-time.Duration(i)*time.Hour)))
	}
	recs, err := l.Records(ctx, Query{App: "web", Env: "prod", Limit: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, int64(3), recs[0].Seq)
	assert.Equal(t, digestN(3), recs[0].Digest)
}

func TestRecordsByActorAndPage(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
	for i := 0; i < 5; i++ {
		rec := newRecord("web", "prod", digestN(i+1), t0.Add(time.Duration(i)*time.Minute))
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
}
