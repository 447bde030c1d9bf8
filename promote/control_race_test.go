package promote

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger"
)

// hookLedger runs after once, after the first Records query matching match.
type hookLedger struct {
	ledger.Ledger
	match func(ledger.Query) bool
	after func()
	done  bool
}

func (h *hookLedger) Records(ctx context.Context, q ledger.Query) ([]ledger.Record, error) {
	recs, err := h.Ledger.Records(ctx, q)
	if !h.done && h.match(q) {
		h.done = true
		h.after()
	}
	return recs, err
}

// A freeze, or a revocation, recorded while a promotion is judged (after
// its policy phases) stops it under the lock, before anything is copied.
func TestFreezeOrRevocationMidPromotionStopsItBeforeTheCopy(t *testing.T) {
	for _, tc := range []struct{ name, policy string }{{"freeze", "freeze"}, {"revocation", "revocation"}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			other := w.engine()
			d := w.push("web", "1.0", "1.0")
			e := w.engineOn(func(l ledger.Ledger) ledger.Ledger {
				return &hookLedger{Ledger: l, match: func(q ledger.Query) bool { return q.App == "web" && q.Env == ledger.AllEnvs },
					after: func() { // the revoked phase has just read the revocations
						var err error
						if tc.name == "freeze" {
							_, err = other.Freeze(ctx, ControlRequest{Env: "test", Reason: "incident 7"})
						} else {
							_, err = other.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: d.String()}, Reason: "backdoor"})
						}
						require.NoError(t, err)
					}}
			})
			_, err := w.promote(e, "test", "web:1.0")
			policyRefused(t, w, err, tc.policy, "web", "test")
			assert.Empty(t, w.tags(w.test("web")), "nothing copied")
		})
	}
}

// A retried job whose promotion went through before a freeze (or outside a
// window now) has nothing to do: exit 0, no record; asking it to write a
// new tag is refused.
func TestNothingToDoPassesAFreeze(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	_, err = e.Freeze(ctx, ControlRequest{Env: "test", Reason: "incident"})
	require.NoError(t, err)
	before := len(w.records(ledger.Query{App: "web", Env: "test"}))

	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err, "nothing to do")
	assert.True(t, res.NothingToDo)
	assert.Len(t, w.records(ledger.Query{App: "web", Env: "test"}), before, "nothing recorded")
	assert.Empty(t, res.Policies, "no verdict for a run that has nothing to do")

	_, err = w.promote(e, "test", "web:1.0", "extra")
	policyRefused(t, w, err, "freeze", "web", "test", "test is frozen")
	assert.NotContains(t, w.tags(w.test("web")), "extra")
}
