package ledger

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trustFixture is a ledger with (web, test): 1 promotion, 2 rejected,
// 3 promotion, 4 promotion; and (api, test): two promotions. The tests edit
// one record of (web, test) behind the ledger's back through raw, then read
// through l, a fresh Ledger that remembers nothing.
type trustFixture struct {
	l   Ledger
	web []*Record
	raw rawStore
}

func newTrustFixture(t *testing.T, s *store) *trustFixture {
	t.Helper()
	fx := &trustFixture{raw: s.raw}
	w := s.open()
	for i, kind := range []Kind{KindPromotion, KindRejected, KindPromotion, KindPromotion} {
		rec := newRecord("web", "test", digestN(i+1), t0.Add(timeStep(i)))
		rec.Kind = kind
		appendAtHead(t, w, rec)
		fx.web = append(fx.web, rec)
	}
	for i := range 2 {
		appendAtHead(t, w, newRecord("api", "test", digestN(i+10), t0.Add(timeStep(i))))
	}
	fx.l = s.open()
	return fx
}

// rewrite replaces seq of (web, test) by edit(record), re-hashed, index
// matching.
func (fx *trustFixture) rewrite(seq int64, edit func(*Record)) {
	r := *fx.web[seq-1]
	edit(&r)
	fx.raw.rewrite(r)
}

// promotedTo is the path check's question: the latest promotion of digest.
func promotedTo(digest string) Query {
	return Query{App: "web", Env: "test", Kinds: []Kind{KindPromotion}, Digest: digest, Limit: 1}
}

var currentQuery = Query{App: "web", Env: "test", Kinds: []Kind{KindPromotion, KindRollback}, Limit: 1}

// requireTamperedSeq asserts err refuses seq of (web, test) with a message
// containing msg.
func requireTamperedSeq(t *testing.T, err error, seq int64, msg string) {
	t.Helper()
	require.ErrorIs(t, err, ErrTampered)
	var te *TamperedError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, seq, te.Seq, "%v", err)
	assert.Contains(t, te.Problem, msg)
	assert.Contains(t, err.Error(), "promote ledger verify")
}

func TestCheckedReadsOfACleanLedger(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *store) {
		fx := newTrustFixture(t, s)
		all, err := fx.l.RecordsChecked(ctx, Query{})
		require.NoError(t, err)
		require.Len(t, all, 6)
		for _, c := range all {
			assert.True(t, c.Verified, "%s/%s #%d: %s", c.Env, c.App, c.Seq, c.Problem)
			assert.Empty(t, c.Problem)
			require.NoError(t, c.Err())
		}
		recs, err := fx.l.Records(ctx, promotedTo(digestN(3)))
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, *fx.web[2], recs[0])
		c, err := fx.l.GetChecked(ctx, fx.web[0].ID)
		require.NoError(t, err)
		assert.Equal(t, Checked{Record: *fx.web[0], Verified: true}, c)
	})
}

// A rejected record made to read "promotion" (SQLite: its kind column; S3:
// its body, hash unchanged) does not answer the path check: the read fails
// with ErrTampered instead of saying "promoted". Reads that do not rely on
// it still work, and the lenient reads mark it.
func TestReadsRefuseRecordWithEditedKind(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *store) {
		fx := newTrustFixture(t, s)
		fx.raw.setKind("web", "test", 2, KindPromotion)

		_, err := fx.l.Records(ctx, promotedTo(digestN(2)))
		requireTamperedSeq(t, err, 2, s.says.editedKind)
		_, err = fx.l.Get(ctx, fx.web[1].ID)
		requireTamperedSeq(t, err, 2, s.says.editedKind)

		cur, err := fx.l.Records(ctx, currentQuery)
		require.NoError(t, err, "the current record checks out")
		assert.Equal(t, int64(4), cur[0].Seq)
		_, err = fx.l.Records(ctx, Query{App: "api"})
		require.NoError(t, err, "the other chain checks out")
		got, err := fx.l.Get(ctx, fx.web[2].ID)
		require.NoError(t, err, "the record after it still links to its stored hash")
		assert.Equal(t, *fx.web[2], got)

		all, err := fx.l.RecordsChecked(ctx, Query{App: "web"})
		require.NoError(t, err)
		require.Len(t, all, 4, "history lists every record")
		for _, c := range all {
			assert.Equal(t, c.Seq != 2, c.Verified, "#%d: %s", c.Seq, c.Problem)
		}
		c, err := fx.l.GetChecked(ctx, fx.web[1].ID)
		require.NoError(t, err)
		assert.False(t, c.Verified)
		assert.Contains(t, c.Problem, s.says.editedKind)
		requireTamperedSeq(t, c.Err(), 2, s.says.editedKind)
	})
}

// A rejected record rewritten as a promotion and re-hashed checks out on its
// own; the record after it no longer links to it, and that is enough.
func TestReadsRefuseRehashedRecord(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *store) {
		fx := newTrustFixture(t, s)
		fx.rewrite(2, func(r *Record) { r.Kind = KindPromotion })

		_, err := fx.l.Records(ctx, promotedTo(digestN(2)))
		requireTamperedSeq(t, err, 2, "the record after it")
		_, err = fx.l.Get(ctx, fx.web[2].ID)
		requireTamperedSeq(t, err, 3, "is not the hash")
		cur, err := fx.l.Records(ctx, currentQuery)
		require.NoError(t, err)
		assert.Equal(t, int64(4), cur[0].Seq)
	})
}

// A re-hashed head has no record after it; on S3 its head hint still names
// the hash it was written with. (SQLite has no such anchor: see
// TestVerifyCannotSeeRehashedLastRecord.)
func TestS3ReadsRefuseRehashedHead(t *testing.T) {
	ctx := context.Background()
	fx := newTrustFixture(t, newS3Store(t))
	fx.rewrite(4, func(r *Record) { r.Digest = "sha256:evil" })
	_, err := fx.l.Records(ctx, currentQuery)
	requireTamperedSeq(t, err, 4, "the record was replaced")
	_, err = fx.l.Get(ctx, fx.web[3].ID)
	requireTamperedSeq(t, err, 4, "the record was replaced")
}
