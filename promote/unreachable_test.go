package promote

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
)

// placed asserts err is a refused connection to host told as env.
func placed(t *testing.T, w *world, err error, host, env string) {
	t.Helper()
	var re *registry.ReachError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, registry.ReachRefused, re.Kind)
	assert.Equal(t, env, re.Env)
	assert.Equal(t, w.env(env).Repository, re.Pattern)
	assert.Contains(t, err.Error(), "cannot connect to registry "+host+" ("+env+"): connection refused")
	assert.Contains(t, err.Error(), "Environment "+env+" is configured with `repository: "+host+"/"+env+"/{app}`")
	assert.False(t, errors.Is(err, errs.ErrUsage) || errors.Is(err, errs.ErrConflict), "exit 1, as before")
}

func TestARegistryErrorNamesTheEnvironmentItCameFrom(t *testing.T) {
	a, closed := regtest.New(t), regtest.ClosedPort(t)

	// The target is out of reach: prod.
	w := newWorld(t, onHosts(a.Host, a.Host, closed))
	w.push("web", "1.0", "1.0")
	e := w.engine()
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	_, err = w.promote(e, "prod", "web")
	placed(t, w, err, closed, "prod")

	// The source is out of reach: test, for gates of prod.
	w = newWorld(t, onHosts(a.Host, closed, a.Host))
	_, err = w.engine().Evaluate(context.Background(), "prod", w.ref("web:1.0"), nil)
	placed(t, w, err, closed, "test")
}

// A rollback whose repository is out of reach names its environment too.
func TestRollbackNamesTheEnvironmentOutOfReach(t *testing.T) {
	a, closed := regtest.New(t), regtest.ClosedPort(t)
	w := newWorld(t, onHosts(a.Host, a.Host, a.Host))
	e := w.engine()
	for _, v := range []string{"1.0", "2.0"} {
		w.push("web", v, v)
		_, err := w.promote(e, "test", "web:"+v)
		require.NoError(t, err)
	}
	moved := newWorld(t, onHosts(a.Host, closed, a.Host))
	moved.ledger = w.ledger
	_, err := moved.engine().Rollback(context.Background(), RollbackRequest{Env: "test", App: "web"})
	placed(t, moved, err, closed, "test")
}
