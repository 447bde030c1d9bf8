package promote

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// A rollback whose lease is lost while it checks the target digest moves
// nothing and records nothing: what the environment runs stays as it was.
func TestLostLeaseStopsRollback(t *testing.T) {
	w := newWorld(t)
	d1 := w.push("web", "1.0", "1.0")
	d2 := w.push("web", "2.0", "2.0")
	for _, ref := range []string{"web:1.0", "web:2.0"} {
		_, err := w.promote(w.engine(), "test", ref)
		require.NoError(t, err)
	}
	e, losable := losableEngine(w)

	// The rollback reads d1's manifest in test before it re-points: hold
	// that read until the lease is gone.
	stalled, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() {}); close(resume) })
	w.a.Fail(func(r *http.Request) int {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/test/web/manifests/"+d1.String()) {
			return 0
		}
		once.Do(func() { close(stalled) })
		select {
		case <-resume:
		case <-r.Context().Done():
			return http.StatusServiceUnavailable
		}
		return 0
	})
	err := loseMidway(t, stalled, func() error {
		_, err := e.Rollback(context.Background(), RollbackRequest{Env: "test", App: "web"})
		return err
	}, func() { losable.loseAll("web", "test") })
	require.ErrorIs(t, err, ledger.ErrLeaseLost)
	assert.ErrorIs(t, err, errs.ErrConflict)
	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, 2, "no rollback recorded")
	cur, err := w.engine().Current(context.Background(), "test", "web")
	require.NoError(t, err)
	assert.Equal(t, d2.String(), cur.Digest)
}
