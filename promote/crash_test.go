package promote

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// A registry that refuses the tag write (as a crash between content and tag
// would leave things) ends with no tag and no record; running the same
// command again completes the promotion.
func TestTagWriteFailureLeavesNoTagAndNoRecord(t *testing.T) {
	w := newWorld(t)
	d := w.push("web", "1.0", "1.0")
	e := w.engine()
	w.a.Fail(func(r *http.Request) int {
		if regtest.IsTagPut(r) && strings.Contains(r.URL.Path, "/test/web/manifests/1.0") {
			return http.StatusForbidden
		}
		return 0
	})
	_, err := w.promote(e, "test", "web:1.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "writing tag")
	assert.Zero(t, w.digestOf(w.test("web")+"@"+d.String()), "the manifest goes with its tag, in one write (rootByTag)")
	assert.Zero(t, w.digestOf(w.test("web")+":1.0"), "no tag on the content")
	assert.Empty(t, w.records(ledger.Query{App: "web", Env: "test", Kinds: []ledger.Kind{ledger.KindPromotion}}), "no record")

	w.a.Fail(nil)
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	assert.Equal(t, d, w.digestOf(w.test("web")+":1.0"))
	require.NotNil(t, res.Record)
	assert.Equal(t, 0, res.Copy.BlobsCopied+res.Copy.BlobsMounted, "the re-run copies nothing again")
	assert.True(t, w.verify().OK())
}

// A process that dies after the content and before the tags (the hook
// stops it there) leaves no tag and no record; a re-run completes it.
func TestCrashAfterContentBeforeTag(t *testing.T) {
	w := newWorld(t)
	idx := regtest.Index(t, regtest.Labels("2.0"), "app")
	d := regtest.Push(t, w.dev("api")+":2.0", idx)
	crashed := w.engine()
	crashed.hooks.afterCopy = func() error { return errors.New("killed") }
	_, err := w.promote(crashed, "test", "api:2.0")
	require.ErrorContains(t, err, "killed")
	assert.Zero(t, w.digestOf(w.test("api")+":2.0"))
	assert.Empty(t, w.records(ledger.Query{App: "api"}))

	res, err := w.promote(w.engine(), "test", "api:2.0")
	require.NoError(t, err)
	assert.Equal(t, d, w.digestOf(w.test("api")+":2.0"))
	assert.Equal(t, 1, res.Copy.ManifestsWritten, "the children were already there; the index goes with its tag (rootByTag)")
	assert.Len(t, w.records(ledger.Query{App: "api", Kinds: []ledger.Kind{ledger.KindPromotion}}), 1)
}

func TestRollback(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	ctx := context.Background()
	d1 := w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	d2 := w.push("web", "2.0", "2.0")
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err)

	w.a.Requests()
	cur, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", Reason: "bad release"})
	require.NoError(t, err)
	assert.Equal(t, d1.String(), cur.Digest)
	assert.Empty(t, regtest.Writes(w.a.Requests()), "rollback copies nothing")
	got, err := e.Current(ctx, "test", "web")
	require.NoError(t, err)
	assert.Equal(t, d1.String(), got.Digest)
	assert.Equal(t, ledger.KindRollback, got.Record.Kind)
	assert.Equal(t, d2.String(), got.Record.Previous)

	// Back again, by record id of the 2.0 promotion.
	p2 := w.records(ledger.Query{App: "web", Env: "test", Kinds: []ledger.Kind{ledger.KindPromotion}, Digest: d2.String()})
	require.Len(t, p2, 1)
	cur, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: p2[0].ID})
	require.NoError(t, err)
	assert.Equal(t, d2.String(), cur.Digest)

	// Refusals.
	never := w.push("web", "3.0", "3.0")
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: never.String()})
	assert.ErrorContains(t, err, "never held")
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "nothing"})
	assert.ErrorContains(t, err, "never held")
	before := len(w.records(ledger.Query{}))
	again, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: d2.String()})
	require.NoError(t, err, "rolling back to what runs is nothing to do")
	assert.True(t, again.NothingToDo)
	assert.Len(t, w.records(ledger.Query{}), before, "and records nothing")

	// A digest gone from the repository is refused.
	reg := e.reg
	repo, err := reg.Repository(w.test("web"))
	require.NoError(t, err)
	require.NoError(t, reg.Delete(ctx, repo.Digest(d1.String())))
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: d1.String()})
	assert.ErrorContains(t, err, "no longer in")
	got, err = e.Current(ctx, "test", "web")
	require.NoError(t, err)
	assert.Equal(t, d2.String(), got.Digest, "a refused rollback changes nothing")
	assert.True(t, w.verify().OK())
}
