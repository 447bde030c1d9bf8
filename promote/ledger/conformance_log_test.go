package ledger

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// testKey makes a new ledger key named origin.
func testKey(t testing.TB, origin string) *Key {
	t.Helper()
	skey, _, err := generateKey(origin, rand.Reader)
	require.NoError(t, err)
	k, err := ParseKey(skey)
	require.NoError(t, err)
	return k
}

// keyedLedger opens s with key, closed when the test ends.
func (s *store) keyed(key *Key) Ledger {
	s.t.Helper()
	l, err := s.dialKeyed(context.Background(), key)
	require.NoError(s.t, err)
	s.t.Cleanup(func() { assert.NoError(s.t, l.Close()) })
	return l
}

// loggedHistory appends n records over three chains, round robin, and
// returns them in append order.
func loggedHistory(t *testing.T, l Ledger, n int) []Record {
	t.Helper()
	var out []Record
	chains := [][2]string{{"web", "test"}, {"web", "prod"}, {"api", "prod"}}
	for i := range n {
		c := chains[i%len(chains)]
		rec := newRecord(c[0], c[1], digestN(i+1), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		out = append(out, *rec)
	}
	return out
}

func TestLogHoldsEveryRecordUnderASignedCheckpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		key := testKey(t, "promote.test/ledger")
		l := s.keyed(key)
		recs := loggedHistory(t, l, 10)

		size, err := l.LogSize(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 10, size)
		rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
		require.NoError(t, err)
		require.True(t, rep.OK(), "%+v", rep.Problems)
		assert.Equal(t, LogReport{Size: 10, Origin: "promote.test/ledger", Signed: 10, Signature: SignatureChecked, Root: rep.Log.Root}, *rep.Log)

		for i, r := range recs {
			p, err := Prove(ctx, l, r.ID, key.Public)
			require.NoError(t, err, r.ID)
			assert.EqualValues(t, i, p.LeafIndex, "records are leaves in append order")
			assert.EqualValues(t, 10, p.TreeSize)
			body, err := r.Body()
			require.NoError(t, err)
			assert.Equal(t, body, p.Record, "the leaf is the stored body")
			_, err = p.Check(key.Public)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(p.Hashes), 4, "O(log n)")
		}
		other := testKey(t, "promote.test/ledger")
		p, err := Prove(ctx, l, recs[3].ID, key.Public)
		require.NoError(t, err)
		_, err = p.Check(other.Public)
		assert.Error(t, err, "another key of the same name does not check it")
	})
}

func TestLogWithoutKeySignsNothingAndProvesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l := s.open()
		recs := loggedHistory(t, l, 3)
		note, err := l.Checkpoint(ctx)
		require.NoError(t, err)
		assert.Nil(t, note)
		_, err = Prove(ctx, l, recs[0].ID, "")
		assert.ErrorIs(t, err, ErrNoCheckpoint)
		rep, err := Audit(ctx, l, AuditOptions{})
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%+v", rep.Problems)
		assert.Equal(t, SignatureNone, rep.Log.Signature)
		assert.EqualValues(t, 3, rep.Log.Size, "the tree is kept without a key")

		// A key added later: appends refuse to sign a log of records no
		// checkpoint covers (a store writer could have added them); ledger
		// upgrade, a person's decision, signs it for the first time.
		key := testKey(t, "promote.test/late")
		keyed := s.keyed(key)
		rec := newRecord("web", "test", digestN(99), t0.Add(time.Hour))
		head, err := keyed.Head(ctx, "web", "test")
		require.NoError(t, err)
		err = CheckWriter(ctx, keyed, "web", "test")
		if err == nil {
			err = keyed.Append(ctx, rec, head)
		}
		require.ErrorIs(t, err, ErrLogTampered)
		assert.ErrorContains(t, err, "signed for the first time only by promote ledger upgrade")
		up, err := keyed.Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
		require.NoError(t, err)
		assert.Equal(t, Upgraded{Size: 3, Signed: true}, up)
		appendAtHead(t, keyed, rec)
		p, err := Prove(ctx, keyed, recs[0].ID, key.Public)
		require.NoError(t, err)
		assert.EqualValues(t, 4, p.TreeSize)
	})
}

func TestSignedLogRefusesWritersWithoutItsKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		key0 := testKey(t, "promote.test/ledger")
		signed := s.keyed(key0)
		loggedHistory(t, signed, 2)
		for name, key := range map[string]*Key{"no key": nil, "another key": testKey(t, "promote.test/ledger")} {
			// Refused when opened (SQLite reads the log's key there, before a
			// promotion copies anything) or at the latest by Append.
			l, err := s.dialKeyed(ctx, key)
			if err == nil {
				err = CheckWriter(ctx, l, "web", "test") // what the engine asks before it copies
				rec := newRecord("web", "test", digestN(50), t0.Add(time.Hour))
				head, herr := l.Head(ctx, "web", "test")
				require.NoError(t, herr)
				assert.ErrorIs(t, l.Append(ctx, rec, head), ErrKeyMismatch, "%s: and Append refuses it too", name)
				require.NoError(t, l.Close())
			}
			require.ErrorIs(t, err, ErrKeyMismatch, name)
			assert.ErrorIs(t, err, errs.ErrConfig, "%s: a configuration error", name)
			assert.ErrorContains(t, err, key0.Public, "%s: names the log's key", name)
			size, err := signed.LogSize(ctx)
			require.NoError(t, err)
			all, err := signed.Records(ctx, Query{})
			require.NoError(t, err)
			assert.Len(t, all, 2, "%s: no record stored", name)
			assert.EqualValues(t, 2, size, "%s: nothing logged", name)
		}
	})
}
