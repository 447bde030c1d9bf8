package promote

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/policy"
)

// Outside test's promotion windows a promotion is refused (exit 3), once
// recorded with the reason and when the window opens, and nothing is
// copied; when the window opens, the same promotion goes through.
func TestPromotionWindowRefusesThenPasses(t *testing.T) {
	var now atomic.Value
	now.Store(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)) // a Saturday
	w := newWorld(t, withEngineOptions(WithClock(func() time.Time { return now.Load().(time.Time) })))
	e := w.engine()
	office, err := policy.ParseWindow("Mon-Fri 09:00-16:00", "", "Europe/Amsterdam")
	require.NoError(t, err)
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.Windows = []policy.Window{office}
	w.push("web", "1.0", "1.0")

	_, err = w.promote(e, "test", "web:1.0")
	require.ErrorIs(t, err, errs.ErrGateRejected, "exit 3")
	var pr *errs.PolicyRefusal
	require.ErrorAs(t, err, &pr)
	assert.Equal(t, "window", pr.Policy)
	assert.Contains(t, err.Error(), "outside every promotion window (allow Mon-Fri 09:00-16:00 Europe/Amsterdam)")
	assert.Contains(t, err.Error(), "the next window opens 2026-12-07T08:00:00Z")
	assert.Empty(t, w.tags(w.test("web")), "nothing copied")
	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, 1, "one record of the refusal")
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	assert.Contains(t, recs[0].Rejection, "release policy window")

	now.Store(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)) // Monday 10:30 in Amsterdam
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	assert.NotNil(t, res.Record)
	assert.Contains(t, w.tags(w.test("web")), "1.0")
}
