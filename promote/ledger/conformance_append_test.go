package ledger

// The conformance suite, part one: Append, Head and Get, on every backend.

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestAppendHeadGetRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
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

		// The writer and another Ledger on the same store (another process
		// or runner) see the same head and records.
		for name, reader := range map[string]Ledger{"writer": l, "other": s.open()} {
			head, err = reader.Head(ctx, "web", "test")
			require.NoError(t, err, name)
			assert.Equal(t, Head{Seq: 2, Hash: second.Hash}, head, name)
			for _, want := range []*Record{first, second} {
				got, err := reader.Get(ctx, want.ID)
				require.NoError(t, err, name)
				assert.Equal(t, *want, got, name)
			}
			_, err = reader.Get(ctx, "r-000000000000")
			require.ErrorIs(t, err, errs.ErrNotFound, name)
			assert.Contains(t, err.Error(), "r-000000000000", name)
			requireLinearChain(t, reader, "web", "test", 2)
		}
	})
}

func TestAppendFillsTimeIDAndUTC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
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
	})
}

func TestAppendRejectsInvalidRecords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
		cases := map[string]func(r *Record){
			"no app":     func(r *Record) { r.App = "" },
			"no env":     func(r *Record) { r.Env = "" },
			"no kind":    func(r *Record) { r.Kind = "" },
			"no digest":  func(r *Record) { r.Digest = "" },
			"bad kind":   func(r *Record) { r.Kind = "deletion" },
			"nil record": nil,
			// every backend must read back what it stores: the S3 one
			// reads no object over 4 MiB
			"too large": func(r *Record) { r.Evidence = json.RawMessage(`"` + strings.Repeat("x", MaxRecordBytes) + `"`) },
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
	})
}

func TestAppendCompareAndSwap(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
		first := newRecord("web", "prod", digestN(1), t0)
		require.NoError(t, l.Append(ctx, first, Head{}))

		stale := []Head{
			{},                               // the head before first
			{Seq: 1, Hash: "sha256:forked"},  // right seq, another hash
			{Seq: 2, Hash: first.Hash},       // ahead of the chain
			{Seq: 1, Hash: ""},               // seq without hash
			{Seq: 0, Hash: first.Hash},       // hash without seq
			{Seq: 7, Hash: "sha256:nothing"}, // made up
			{Seq: -1},                        // impossible
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
		assert.False(t, s.raw.has("web", "prod", 2), "no record 2 is stored")

		// Another chain's head is not this chain's head.
		other := newRecord("web", "test", digestN(3), t0)
		require.ErrorIs(t, l.Append(ctx, other, Head{Seq: 1, Hash: first.Hash}), ErrHeadMoved)
		require.NoError(t, l.Append(ctx, other, Head{}))
	})
}

// The race itself: a second runner appends after the head it read, which
// the first has moved; it gets ErrHeadMoved and stores nothing (on S3 its
// id index stays behind, stale: Get ignores it, a new claim replaces it).
func TestAppendLosesRaceWithHeadMoved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l, a, b := s.open(), s.open(), s.open()
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
		assert.Contains(t, err.Error(), s.says.lostRace)
		assert.False(t, s.raw.has("web", "prod", 3))
		_, err = l.Get(ctx, "r-lost")
		require.ErrorIs(t, err, errs.ErrNotFound, "the lost record is not found")

		// The loser re-reads and wins, even with the same id.
		headB, err = b.Head(ctx, "web", "prod")
		require.NoError(t, err)
		require.NoError(t, b.Append(ctx, lost, headB))
		got, err := l.Get(ctx, "r-lost")
		require.NoError(t, err)
		assert.Equal(t, int64(3), got.Seq)
		requireLinearChain(t, l, "web", "prod", 3)
	})
}

func TestAppendCancelledStoresNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l := s.open()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := newRecord("web", "prod", digestN(1), t0)
		require.ErrorIs(t, l.Append(ctx, rec, Head{}), context.Canceled)
		assert.Zero(t, rec.Seq)
		// The ledger is still usable: no transaction or claim was left open.
		appendAtHead(t, l, newRecord("web", "prod", digestN(2), t0))
		requireLinearChain(t, l, "web", "prod", 1)
	})
}

func TestAppendDuplicateIDIsNotHeadMoved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
		a := newRecord("web", "test", digestN(1), t0)
		a.ID = "r-same"
		appendAtHead(t, l, a)
		b := newRecord("api", "test", digestN(2), t0)
		b.ID = "r-same"
		err := l.Append(ctx, b, Head{})
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrHeadMoved)
		assert.Contains(t, err.Error(), "r-same")
		assert.False(t, s.raw.has("api", "test", 1))
	})
}
