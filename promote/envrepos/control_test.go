package envrepos

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/promote/ledger"
)

// envs check with no apps takes them from the ledger: a freeze's chain
// ("*" for every app) is no app, and must not make it fail.
func TestEnvsCheckFromTheLedgerSkipsFreezes(t *testing.T) {
	srv, adm, led := newWorld(t)
	srv.Registry(prodAccount).GrantAccount(ecremu.DefaultAccount)
	ctx := context.Background()
	head, err := led.Head(ctx, "web", "test")
	require.NoError(t, err)
	require.NoError(t, led.Append(ctx, &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "test", Digest: fmt.Sprintf("sha256:%064d", 1)}, head))
	head, err = led.Head(ctx, ledger.AllApps, "prod")
	require.NoError(t, err)
	require.NoError(t, led.Append(ctx, &ledger.Record{Kind: ledger.KindFreeze, App: ledger.AllApps, Env: "prod", Reason: "x"}, head))
	rep, err := adm.Check(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"web"}, rep.Apps)
}
