package promote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// A hostile source cannot make promote fetch without bound: the limits are
// checked before the requests they would allow, and the refusal names the
// limit to raise.
func TestTreeLimits(t *testing.T) {
	t.Run("maxManifests refuses before fetching any entry", func(t *testing.T) {
		w := newWorld(t)
		entries := make([]v1.Descriptor, config.DefaultMaxManifests+1)
		for i := range entries {
			// A type the in-process registry does not look up, so it stores the index.
			entries[i] = v1.Descriptor{MediaType: "application/vnd.example.widget+json", Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i)}, Size: 100}
		}
		raw, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": types.OCIImageIndex, "manifests": entries})
		require.NoError(t, err)
		root := putRaw(t, w.dev("api"), types.OCIImageIndex, raw)
		w.a.Requests()
		res, err := w.promote(w.engine(), "test", "api@"+root.Digest.String(), "1.0.0")
		refused(t, w, "api", res, err, "limits.maxManifests 1000")
		for _, q := range w.a.Requests() {
			assert.NotContains(t, q, "/manifests/sha256:0000", "no entry was fetched")
		}
	})
	t.Run("maxManifestBytes", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.Limits.MaxManifestBytes = 1024
		regtest.Push(t, w.dev("api")+":1.0.0", regtest.Index(t, regtest.Labels("1.0.0"), "1000"))
		res, err := w.promote(w.engine(), "test", "api:1.0.0")
		refused(t, w, "api", res, err, "limits.maxManifestBytes 1024")
	})
	t.Run("maxIndexDepth", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.Limits.MaxIndexDepth = 1
		inner := index(mutate.IndexAddendum{Add: goodImage(t), Descriptor: v1.Descriptor{Platform: amd64}})
		regtest.Push(t, w.dev("api")+":1.0.0", index(mutate.IndexAddendum{Add: inner}))
		res, err := w.promote(w.engine(), "test", "api:1.0.0")
		refused(t, w, "api", res, err, "limits.maxIndexDepth 1")
	})
	t.Run("nested index within the default depth", func(t *testing.T) {
		w := newWorld(t)
		inner := index(mutate.IndexAddendum{Add: goodImage(t), Descriptor: v1.Descriptor{Platform: amd64}})
		d := regtest.Push(t, w.dev("api")+":1.0.0", index(mutate.IndexAddendum{Add: inner}))
		_, err := w.promote(w.engine(), "test", "api:1.0.0")
		require.NoError(t, err)
		assert.Equal(t, d, w.digestOf(w.test("api")+":1.0.0"))
	})
}

// A registry that lists as a referrer a manifest whose subject is
// something else is lying about what is attached: refused.
func TestReferrerWithAnotherSubjectIsRefused(t *testing.T) {
	w := newHostileWorld(t)
	// A signature-like manifest with no subject, pushed for another digest.
	other := regtest.CosignSignature(t, w.src.Host+"/dev/web", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)})
	w.src.Set(answerOn("GET", "/v2/dev/web/referrers/"+w.digest.String(), func(rw http.ResponseWriter, r *http.Request) {
		rec := w.src.Honest(r)
		var idx v1.IndexManifest
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &idx))
		head := w.src.Honest(mustRequest(t, "HEAD", "http://"+w.src.Host+"/v2/dev/web/manifests/"+other.String()))
		size := head.Header().Get("Content-Length")
		var n int64
		fmt.Sscan(size, &n)
		idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: other, Size: n})
		b, err := json.Marshal(idx)
		require.NoError(t, err)
		resend(rw, rec, b)
	}))
	_, err := w.promoteWeb()
	require.Error(t, err)
	assert.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, err.Error(), "lists "+other.String()+" as a referrer of "+w.digest.String()+", but the manifest has no subject")
	assert.Empty(t, w.tags(w.test("web")))
	recs := w.records(ledger.Query{})
	require.Len(t, recs, 1)
	assert.True(t, strings.Contains(recs[0].Rejection, other.String()))
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	r, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	return r
}
