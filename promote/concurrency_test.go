package promote

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// Eight promoters, each with its own engine and ledger handle (as separate
// processes), promote distinct digests into one environment at once: eight
// records, one linear chain, verify clean.
func TestEightConcurrentPromoters(t *testing.T) {
	w := newWorld(t)
	const n = 8
	for i := 0; i < n; i++ {
		w.push("web", fmt.Sprintf("1.%d", i), fmt.Sprintf("1.%d", i))
	}
	engines := make([]*Engine, n)
	for i := range engines {
		engines[i] = w.engine()
	}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.promote(engines[i], "test", fmt.Sprintf("web:1.%d", i))
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, n)
	seen := map[string]bool{}
	for i, r := range recs { // newest first
		assert.Equal(t, int64(n-i), r.Seq)
		if i+1 < len(recs) {
			assert.Equal(t, recs[i+1].Hash, r.PrevHash, "one linear chain")
		}
		seen[r.Digest] = true
	}
	assert.Len(t, seen, n, "every digest recorded once")
	assert.True(t, w.verify().OK())
	cur, err := engines[0].Current(ctxTimeout(t), "test", "web")
	require.NoError(t, err)
	assert.Equal(t, recs[0].Digest, cur.Digest, "current is the last record")
}

// Two promoters write the same immutable tag with different digests at
// once: one succeeds, the other gets a clear conflict, and the tag names
// the winner's digest.
func TestSameTagRace(t *testing.T) {
	for round := 0; round < 5; round++ {
		w := newWorld(t)
		da := w.push("web", "a", "1.0")
		db := w.push("web", "b", "1.0")
		e1, e2 := w.engine(), w.engine()
		var wg sync.WaitGroup
		var err1, err2 error
		wg.Add(2)
		go func() { defer wg.Done(); _, err1 = w.promote(e1, "test", "web:a", "release") }()
		go func() { defer wg.Done(); _, err2 = w.promote(e2, "test", "web:b", "release") }()
		wg.Wait()
		require.False(t, err1 == nil && err2 == nil, "both cannot win")
		require.True(t, err1 == nil || err2 == nil, "one must win: %v / %v", err1, err2)
		winner, loserErr := da, err2
		if err1 != nil {
			winner, loserErr = db, err1
		}
		assert.ErrorIs(t, loserErr, errs.ErrConflict)
		assert.Equal(t, winner, w.digestOf(w.test("web")+":release"))
		promos := w.records(ledger.Query{App: "web", Env: "test", Kinds: []ledger.Kind{ledger.KindPromotion}})
		require.Len(t, promos, 1)
		assert.Equal(t, winner.String(), promos[0].Digest)
	}
}
