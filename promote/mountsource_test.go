package promote

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// TestLedgerFindsMountSourcesWithoutACache: on a fresh runner (no blob
// cache), the ledger's records of earlier promotions into the target
// registry lead to repositories holding the missing blobs.
func TestLedgerFindsMountSourcesWithoutACache(t *testing.T) {
	w := newWorld(t)
	web := regtest.Image(t, 3, regtest.Labels("1.0"), "1000")
	cf, err := web.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.Labels = regtest.Labels("2.0")
	api, err := mutate.ConfigFile(web, cf) // web's layers, its own config
	require.NoError(t, err)
	regtest.Push(t, w.dev("web")+":1.0", web)
	regtest.Push(t, w.dev("api")+":2.0", api)
	e := w.engine()
	for _, ref := range []string{"web:1.0", "api:2.0"} {
		_, err := w.promote(e, "test", ref)
		require.NoError(t, err)
	}
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)

	layers, err := api.Layers()
	require.NoError(t, err)
	missing := map[v1.Hash]int64{}
	for _, l := range layers {
		d, _ := l.Digest()
		n, _ := l.Size()
		missing[d] = n
	}
	apiCfg, err := api.ConfigName()
	require.NoError(t, err)
	missing[apiCfg] = 100 // nobody holds api's config yet
	dst, err := e.reg.Repository(w.prod("api"))
	require.NoError(t, err)
	ctx := context.Background()

	assert.Empty(t, e.ledgerMountSources(ctx, dst, missing), "a few KiB are not worth the search")
	e.searchMin = 0
	got := e.ledgerMountSources(ctx, dst, missing)
	for _, l := range layers {
		d, _ := l.Digest()
		assert.Equal(t, "prod/web", got[d], "layer %s: prod/web holds it, by the ledger", d)
	}
	assert.NotContains(t, got, apiCfg)
	assert.Len(t, got, 3, "test/web and test/api are on another registry: not candidates")
}
