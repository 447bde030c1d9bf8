package promote

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
)

// The pointer tag follows what the environment holds: promotions and
// rollbacks move it, and it is never accepted as one of the environment's tags.
func TestPointerTagFollowsCurrent(t *testing.T) {
	w := newWorld(t)
	w.env("test").PointerTag = "current"
	e := w.engine()
	ctx := context.Background()

	d1 := w.push("web", "1.0", "1.0")
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	assert.Equal(t, d1, w.digestOf(w.test("web")+":current"))
	assert.Contains(t, res.Record.Targets, w.test("web")+":current")

	d2 := w.push("web", "2.0", "2.0")
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	assert.Equal(t, d2, w.digestOf(w.test("web")+":current"))

	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web"})
	require.NoError(t, err)
	assert.Equal(t, d1, w.digestOf(w.test("web")+":current"), "rollback moves the pointer")
	assert.Equal(t, d2, w.digestOf(w.test("web")+":2.0"), "and no other tag")

	_, err = w.promote(e, "test", "web:2.0", "current")
	assert.ErrorIs(t, err, errs.ErrUsage, "the pointer tag is not one of the environment's tags")
}

// On ECR the pointer tag needs the repository to exclude it from
// immutability; without the exclusion the move fails and says why.
func TestPointerTagOnImmutableECR(t *testing.T) {
	w := newECRWorld(t)
	test, err := w.eng.cfg.Env("test")
	require.NoError(t, err)
	test.PointerTag = "current"
	ctx := context.Background()
	clean := ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0004", Severity: "LOW"}}}

	w.push(t, "1.0", clean)
	_, err = w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
	require.NoError(t, err, "the first write of the pointer is a new tag")
	w.push(t, "2.0", clean)
	_, err = w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "2.0"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be excluded from immutability")

	require.NoError(t, w.srv.Default().CreateRepository("test/api", ecremu.RepositoryConfig{Mutability: "IMMUTABLE_WITH_EXCLUSION",
		Filters: []ecremu.ExclusionFilter{{FilterType: "WILDCARD", Filter: "current"}}}))
	require.NoError(t, w.srv.Default().CreateRepository("dev/api", ecremu.RepositoryConfig{}))
	for _, v := range []string{"1.0", "2.0"} {
		w.pushApp(t, "api", v, clean)
		_, err = w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "api", Tag: v}})
		require.NoError(t, err, v)
	}
	cur, err := w.eng.Rollback(ctx, RollbackRequest{Env: "test", App: "api"})
	require.NoError(t, err)
	tags, err := w.srv.Default().Tags("test/api")
	require.NoError(t, err)
	assert.Equal(t, cur.Digest, tags["current"], "with the exclusion, rollback moves the pointer in ECR")
}
