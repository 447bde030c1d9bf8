package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
)

// t0 is the time of the first record the tests write.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// openTestLedger opens a new ledger in a temporary directory and closes it
// when the test ends.
func openTestLedger(t testing.TB) (Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	return l, path
}

// newRecord returns a promotion of digest for app into env, as the engine
// would fill it before Append.
func newRecord(app, env, digest string, at time.Time) *Record {
	return &Record{
		Time:       at,
		Kind:       KindPromotion,
		App:        app,
		Env:        env,
		From:       "dev",
		Repository: "registry.example/" + env + "/" + app,
		Digest:     digest,
		Source:     Source{Given: app + ":1.0", Resolved: "registry.example/dev/" + app + "@" + digest},
		Targets:    []string{"registry.example/" + env + "/" + app + ":1.0"},
		Gates: []verdict.Result{{Name: "scan", Verdict: "pass", Reason: "no findings",
			Evidence: map[string]any{"critical": float64(0)}}},
		Actor:  Actor{User: "ci", Host: "runner-1"},
		Reason: "release " + digest,
	}
}

// digestN returns a distinct, well-formed digest for n.
func digestN(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// appendAtHead appends rec after the chain's current head.
func appendAtHead(t testing.TB, l Ledger, rec *Record) {
	t.Helper()
	ctx := context.Background()
	head, err := l.Head(ctx, rec.App, rec.Env)
	require.NoError(t, err)
	require.NoError(t, l.Append(ctx, rec, head))
}

// requireLinearChain asserts that the chain of app in env holds exactly n
// records, seq 1..n, each linked to the one before, and that Verify is clean.
func requireLinearChain(t *testing.T, l Ledger, app, env string, n int) []Record {
	t.Helper()
	ctx := context.Background()
	recs, err := l.Records(ctx, Query{App: app, Env: env})
	require.NoError(t, err)
	require.Len(t, recs, n)
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	prev := ""
	for i, r := range recs {
		require.Equal(t, int64(i+1), r.Seq, "seq of record %d", i)
		require.Equal(t, prev, r.PrevHash, "prev_hash of seq %d", r.Seq)
		body, err := r.Body()
		require.NoError(t, err)
		require.Equal(t, HashBody(body), r.Hash, "hash of seq %d", r.Seq)
		prev = r.Hash
	}
	rep, err := l.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "verify: %+v", rep.Problems)
	return recs
}

func TestAppendHeadGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)

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
	assert.Equal(t, int64(2), second.Seq)
	assert.Equal(t, first.Hash, second.PrevHash)

	head, err = l.Head(ctx, "web", "test")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 2, Hash: second.Hash}, head)

	for _, want := range []*Record{first, second} {
		got, err := l.Get(ctx, want.ID)
		require.NoError(t, err)
		assert.Equal(t, *want, got)
	}
	_, err = l.Get(ctx, "r-000000000000")
	require.ErrorIs(t, err, errs.ErrNotFound)
	assert.Contains(t, err.Error(), "r-000000000000")

	requireLinearChain(t, l, "web", "test", 2)
}

func TestAppendFillsTimeIDAndUTC(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)

	zero := newRecord("web", "test", digestN(1), time.Time{})
	before := time.Now()
	appendAtHead(t, l, zero)
	assert.False(t, zero.Time.Before(before.Add(-time.Second)), "zero time is set to now")
	assert.Equal(t, time.UTC, zero.Time.Location())

	berlin := time.FixedZone("CET", 3600)
	local := newRecord("web", "test", digestN(2), time.Date(2026, 3, 1, 12, 0, 0, 5, berlin))
	local.ID = "r-chosen"
	appendAtHead(t, l, local)
	assert.Equal(t, "r-chosen", local.ID, "a caller's id is kept")
	assert.Equal(t, time.Date(2026, 3, 1, 11, 0, 0, 5, time.UTC), local.Time)
	got, err := l.Get(ctx, "r-chosen")
	require.NoError(t, err)
	assert.Equal(t, *local, got)
}

func TestAppendRejectsInvalidRecords(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
	cases := map[string]func(r *Record){
		"no app":     func(r *Record) { r.App = "" },
		"no env":     func(r *Record) { r.Env = "" },
		"no kind":    func(r *Record) { r.Kind = "" },
		"no digest":  func(r *Record) { r.Digest = "" },
		"bad kind":   func(r *Record) { r.Kind = "deletion" },
		"nil record": nil,
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			var rec *Record
			if spoil != nil {
				rec = newRecord("web", "test", digestN(1), t0)
				spoil(rec)
			}
			err := l.Append(ctx, rec, Head{})
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrHeadMoved)
		})
	}
	recs, err := l.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Empty(t, recs, "nothing was stored")
}

func TestAppendCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
	first := newRecord("web", "prod", digestN(1), t0)
	require.NoError(t, l.Append(ctx, first, Head{}))

	stale := []Head{
		{},                               // the head before first
		{Seq: 1, Hash: "sha256:forked"},  // right seq, another hash
		{Seq: 2, Hash: first.Hash},       // ahead of the chain
		{Seq: 1, Hash: ""},               // seq without hash
		{Seq: 0, Hash: first.Hash},       // hash without seq
		{Seq: 7, Hash: "sha256:nothing"}, // made up
	}
	for _, expected := range stale {
		rec := newRecord("web", "prod", digestN(2), t0.Add(time.Minute))
		before := *rec
		err := l.Append(ctx, rec, expected)
		require.ErrorIs(t, err, ErrHeadMoved, "expected head %+v", expected)
		assert.Contains(t, err.Error(), "web")
		assert.Equal(t, before, *rec, "a refused record is left as it was")
	}
	recs := requireLinearChain(t, l, "web", "prod", 1)
	assert.Equal(t, first.ID, recs[0].ID)

	// Another chain's head is not this chain's head.
	other := newRecord("web", "test", digestN(3), t0)
	require.ErrorIs(t, l.Append(ctx, other, Head{Seq: 1, Hash: first.Hash}), ErrHeadMoved)
	require.NoError(t, l.Append(ctx, other, Head{}))
}

func TestAppendCancelledStoresNothing(t *testing.T) {
	l, _ := openTestLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecord("web", "prod", digestN(1), t0)
	require.ErrorIs(t, l.Append(ctx, rec, Head{}), context.Canceled)
	assert.Zero(t, rec.Seq)
	// The ledger is still usable: no transaction was left open.
	appendAtHead(t, l, newRecord("web", "prod", digestN(2), t0))
	requireLinearChain(t, l, "web", "prod", 1)
}

func TestAppendDuplicateIDIsNotHeadMoved(t *testing.T) {
	ctx := context.Background()
	l, _ := openTestLedger(t)
	a := newRecord("web", "test", digestN(1), t0)
	a.ID = "r-same"
	appendAtHead(t, l, a)
	b := newRecord("api", "test", digestN(2), t0)
	b.ID = "r-same"
	err := l.Append(ctx, b, Head{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrHeadMoved)
	assert.Contains(t, err.Error(), "r-same")
}
