package promote

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/promote/config"
)

func TestCheckTarget(t *testing.T) {
	w := newECRWorld(t) // dev/web MUTABLE, test/web IMMUTABLE
	ctx := context.Background()
	env := func(name string) *config.Environment {
		e, err := w.eng.Config().Env(name)
		require.NoError(t, err)
		return e
	}
	qa := &config.Environment{Name: "qa", Repository: "registry.example.com/qa/{app}", Tags: config.Immutable}
	assert.NoError(t, w.eng.CheckTarget(ctx, qa, "web"), "not in ECR")
	err := w.eng.CheckTarget(ctx, env("test"), "api")
	require.ErrorIs(t, err, errs.ErrNotFound)
	assert.Contains(t, err.Error(), "promote envs apply api")

	require.NoError(t, w.srv.Default().CreateRepository("test/api", ecremu.RepositoryConfig{}))
	err = w.eng.CheckTarget(ctx, env("test"), "api")
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "test/api is MUTABLE")
	assert.Contains(t, err.Error(), "--fix-mutability")

	assert.NoError(t, w.eng.CheckTarget(ctx, env("test"), "web"))
	assert.NoError(t, w.eng.CheckTarget(ctx, env("dev"), "web"), "a mutable environment may have a MUTABLE repository")
	assert.Zero(t, w.srv.Count("CreateRepository")+w.srv.Count("PutImageTagMutability"), "a check writes nothing")
}
