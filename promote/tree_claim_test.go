package promote

import (
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// R = index[C, H], C = index[G], G an image whose subject is H: a legal
// tree (no hash cycle) in which the registry lists G among H's referrers.
// When H's referrers answer before C's manifest, G is claimed as an
// attachment: the content walk must wait for it, and the promotion is
// refused cleanly, recorded, for a runnable image attached as a referrer,
// not crash on a half-built tree. The delays make the race certain.
func TestContentClaimedAsAnAttachmentFirstIsWaitedFor(t *testing.T) {
	w := newHostileWorld(t)
	h := regtest.Image(t, 2, regtest.Labels("1.0"), "1000")
	hD := regtest.Push(t, w.dev("web")+":h", h)
	hRaw, err := h.RawManifest()
	require.NoError(t, err)
	hmt, err := h.MediaType()
	require.NoError(t, err)
	g := mutate.Subject(regtest.Image(t, 2, regtest.Labels("1.0"), "1000"), v1.Descriptor{MediaType: hmt, Digest: hD, Size: int64(len(hRaw))}).(v1.Image)
	gD := regtest.Push(t, w.dev("web")+"@"+digestOf(t, g).String(), g)
	c := index(mutate.IndexAddendum{Add: g, Descriptor: v1.Descriptor{Platform: amd64}})
	cD := regtest.Push(t, w.dev("web")+"@"+digestOf(t, c).String(), c)
	r := mutate.AppendManifests(mutate.IndexMediaType(index(), types.OCIImageIndex),
		mutate.IndexAddendum{Add: c}, mutate.IndexAddendum{Add: h, Descriptor: v1.Descriptor{Platform: amd64}})
	regtest.Push(t, w.dev("web")+":1.0", r)
	w.src.Set(func(_ http.ResponseWriter, q *http.Request) bool {
		switch {
		case q.Method == http.MethodGet && strings.HasSuffix(q.URL.Path, "/manifests/"+cD.String()):
			time.Sleep(300 * time.Millisecond) // H's referrers answer first and claim G
		case q.Method == http.MethodGet && strings.HasSuffix(q.URL.Path, "/manifests/"+gD.String()):
			time.Sleep(time.Second) // and G is still being fetched when C's walk ends
		}
		return false
	})
	res, err := w.promoteWeb()
	refused(t, w.world, "web", res, err, "runnable image")
}
