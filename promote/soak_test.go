package promote

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// A digest enters prod only after it has been current in test for prod's
// soak: refused before (exit 3, recorded, saying when it is eligible),
// passes after.
func TestSoakRefusesThenPasses(t *testing.T) {
	var now atomic.Value
	start := time.Now().UTC()
	now.Store(start)
	w := newWorld(t, withEngineOptions(WithClock(func() time.Time { return now.Load().(time.Time) })))
	e := w.engine()
	prod, err := e.Config().Env("prod")
	require.NoError(t, err)
	prod.Soak = 24 * time.Hour
	w.push("web", "1.0", "1.0")
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	since := res.Record.Time

	now.Store(since.Add(23 * time.Hour))
	_, err = w.promote(e, "prod", "web")
	require.ErrorIs(t, err, errs.ErrGateRejected, "exit 3")
	var pr *errs.PolicyRefusal
	require.ErrorAs(t, err, &pr)
	assert.Equal(t, "soak", pr.Policy)
	assert.Contains(t, err.Error(), "becomes eligible at "+since.Add(24*time.Hour).UTC().Format(time.RFC3339))
	assert.Empty(t, w.tags(w.prod("web")), "nothing copied")
	recs := w.records(ledger.Query{App: "web", Env: "prod"})
	require.Len(t, recs, 1)
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	assert.Contains(t, recs[0].Rejection, "release policy soak")

	now.Store(since.Add(24 * time.Hour))
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err, "a day in test: eligible")
	assert.Contains(t, w.tags(w.prod("web")), "1.0")
}
