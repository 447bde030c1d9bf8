package promote

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// isContentWrite reports whether r writes content into repo: a blob upload
// or mount, or a manifest by digest (the in-process registry keeps blobs
// across repositories, so a copy within it may upload none).
func isContentWrite(r *http.Request, repo string) bool {
	return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/"+repo+"/blobs/uploads/") ||
		r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/"+repo+"/manifests/sha256:")
}

// pushIndex puts a good two-platform index into dev under version: its
// children are written by digest before the tags (a lone image's manifest
// goes with its tag, rootByTag), so a stalled copy has content to stall on.
func pushIndex(w *world, app, version string) v1.Hash {
	return regtest.Push(w.t, w.dev(app)+":"+version, regtest.Index(w.t, regtest.Labels(version), "1000"))
}

// stallFirstWrite makes the first content write into repo wait: stalled is
// closed when it arrives, and it goes on when resume is closed or fails
// when the client gives up on it. Later writes pass.
func stallFirstWrite(w *world, repo string) (stalled, resume chan struct{}) {
	stalled, resume = make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.t.Cleanup(func() { // a failed test must not leave the write hanging
		select {
		case <-resume:
		default:
			close(resume)
		}
	})
	w.a.Fail(func(r *http.Request) int {
		if !isContentWrite(r, repo) {
			return 0
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			return 0
		}
		close(stalled)
		select {
		case <-resume:
			return 0
		case <-r.Context().Done():
			return http.StatusServiceUnavailable
		}
	})
	return stalled, resume
}

// On S3, a promoter whose lease is taken over while its copy is stalled
// (its holder outlived the lease) stops before writing tags: it writes no
// tag and no record, and the promotion of the runner that took the lease
// over stands.
func TestLostLeaseMidCopyWritesNoTagAndNoRecord(t *testing.T) {
	w := newWorld(t, withS3Ledger())
	lose := pushIndex(w, "web", "1.0")
	win := pushIndex(w, "web", "2.0")
	loser, winner := w.engine(), w.engine()
	stalled, resume := stallFirstWrite(w, "test/web")

	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := w.promote(loser, "test", "web:1.0", "release")
		done <- outcome{res, err}
	}()
	select {
	case <-stalled:
	case o := <-done:
		t.Fatalf("the loser finished (%v) before its copy stalled", o.err)
	case <-time.After(time.Minute):
		t.Fatal("the loser's copy never reached the target")
	}

	w.s3.stealLease("web", "test")
	res, err := w.promote(winner, "test", "web:2.0", "release")
	require.NoError(t, err, "the winner takes the expired lease over and promotes")
	require.NotNil(t, res.Record)
	close(resume)

	var o outcome
	select {
	case o = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the loser did not stop")
	}
	require.Error(t, o.err, "the loser must not finish its promotion")
	assert.ErrorIs(t, o.err, ledger.ErrLeaseLost)
	assert.ErrorIs(t, o.err, errs.ErrConflict, "a lost lease is a conflict (exit 4)")
	assert.ErrorContains(t, o.err, "stopped before writing the promotion's tags")
	assert.ErrorContains(t, o.err, "run the command again")
	t.Logf("the loser says: %v", o.err)

	assert.Equal(t, win, w.digestOf(w.test("web")+":release"), "the loser wrote no tag over the winner's")
	assert.ElementsMatch(t, []string{"2.0", "release"}, w.tags(w.test("web")), "no tag of the loser's (1.0)")
	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, 1, "the loser recorded nothing")
	assert.Equal(t, win.String(), recs[0].Digest)
	assert.Equal(t, ledger.KindPromotion, recs[0].Kind)
	assert.NotEqual(t, lose.String(), recs[0].Digest)
	cur, err := winner.Current(ctxTimeout(t), "test", "web")
	require.NoError(t, err)
	assert.Equal(t, win.String(), cur.Digest, "the winner's promotion stands")
	assert.True(t, w.verify().OK())
}

// losableLedger is a ledger whose locks the test can take away, as an S3
// lease is lost when its renewals fail past its expiry.
type losableLedger struct {
	ledger.Ledger
	mu   sync.Mutex
	held []*losableLease
}

type losableLease struct {
	ledger.Lease
	lost context.Context
	lose context.CancelCauseFunc
}

func (l *losableLedger) Lock(ctx context.Context, app, env string) (ledger.Lease, error) {
	inner, err := l.Ledger.Lock(ctx, app, env)
	if err != nil {
		return nil, err
	}
	ls := &losableLease{Lease: inner}
	ls.lost, ls.lose = context.WithCancelCause(context.Background())
	l.mu.Lock()
	l.held = append(l.held, ls)
	l.mu.Unlock()
	return ls, nil
}

// loseAll loses every lease taken so far: renewals failed until expiry.
func (l *losableLedger) loseAll(app, env string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ls := range l.held {
		ls.lose(&ledger.LeaseLostError{App: app, Env: env, Lock: "test lock", Expired: true, TTL: time.Second, At: time.Now()})
	}
}

func (ls *losableLease) Watch(ctx context.Context) (context.Context, context.CancelFunc) {
	watched, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(ls.lost, func() { cancel(context.Cause(ls.lost)) })
	return watched, func() { stop(); cancel(context.Canceled) }
}

func (ls *losableLease) Check(ctx context.Context) error {
	if ls.lost.Err() != nil {
		return context.Cause(ls.lost)
	}
	return ls.Lease.Check(ctx)
}

// A lease lost while the copy is stalled stops the copy itself: the
// engine's requests are cancelled, and the promotion ends with the loss,
// no tag and no record.
func TestLostLeaseCancelsStalledCopy(t *testing.T) {
	w := newWorld(t)
	pushIndex(w, "web", "1.0")
	e, losable := losableEngine(w)
	stalled, _ := stallFirstWrite(w, "test/web") // never resumed: only a cancel ends it

	err := loseMidway(t, stalled, func() error { _, err := w.promote(e, "test", "web:1.0"); return err },
		func() { losable.loseAll("web", "test") })
	require.ErrorIs(t, err, ledger.ErrLeaseLost)
	assert.ErrorIs(t, err, errs.ErrConflict)
	assert.ErrorContains(t, err, "promoting web to test stopped")
	assert.ErrorContains(t, err, "expired")
	assert.Zero(t, w.digestOf(w.test("web")+":1.0"), "no tag")
	assert.Empty(t, w.records(ledger.Query{App: "web"}), "no record")
	assert.True(t, w.verify().OK())
}

// loseMidway runs op, waits until it stalls, loses the lease with lose and
// returns what op then ends with; op must not finish on its own before it
// stalls, nor go on once the lease is lost.
func loseMidway(t *testing.T, stalled <-chan struct{}, op func() error, lose func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case <-stalled:
	case err := <-done:
		t.Fatalf("it finished (%v) before it stalled", err)
	case <-time.After(time.Minute):
		t.Fatal("it never stalled")
	}
	lose()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("it went on after the lease was lost")
	}
	return nil
}

// losableEngine is w's engine on a ledger whose locks the test can take away.
func losableEngine(w *world) (*Engine, *losableLedger) {
	var losable *losableLedger
	e := w.engineOn(func(l ledger.Ledger) ledger.Ledger {
		losable = &losableLedger{Ledger: l}
		return losable
	})
	return e, losable
}
