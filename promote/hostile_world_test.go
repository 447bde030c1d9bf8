package promote

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
)

// hostileRegistry is the source registry that lies: its hook may answer
// in the registry's place (digests, sizes, redirects).
type hostileRegistry = regtest.Hooked

func newHostileRegistry(t testing.TB) *hostileRegistry { return regtest.NewHooked(t) }

// hostileWorld is the world with dev on a hostile registry and test on an
// honest one (no prod), web:1.0 in dev with an SBOM attached, and engines
// whose base transport counts what they read.
type hostileWorld struct {
	*world
	src  *hostileRegistry
	dst  *regtest.Registry
	read atomic.Int64 // response bytes promote read from any registry

	img    v1.Image
	mf     *v1.Manifest
	raw    []byte
	digest v1.Hash // of web:1.0 in dev
	sbom   v1.Hash // an OCI 1.1 referrer of it
}

func newHostileWorld(t *testing.T) *hostileWorld {
	w := &hostileWorld{src: newHostileRegistry(t), dst: regtest.New(t)}
	// registry.New puts registry.Guard on each engine's transport, as the CLI does.
	counted := func() http.RoundTripper {
		return &readCounter{next: http.DefaultTransport.(*http.Transport).Clone(), n: &w.read}
	}
	w.world = newWorld(t, onHosts(w.src.Host, w.dst.Host, ""), withTransport(counted),
		withRetry(registry.Retry{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}))
	w.img = regtest.Image(t, 3, regtest.Labels("1.0"), "1000")
	w.digest = regtest.Push(t, w.dev("web")+":1.0", w.img)
	var err error
	w.mf, err = w.img.Manifest()
	require.NoError(t, err)
	w.raw, err = w.img.RawManifest()
	require.NoError(t, err)
	w.sbom = regtest.Referrer(t, w.dev("web"), v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: w.digest, Size: int64(len(w.raw))}, "application/spdx+json")
	return w
}

// promoteWeb promotes web:1.0 to test with a new engine.
func (w *hostileWorld) promoteWeb() (*Result, error) {
	return w.promote(w.engine(), "test", "web:1.0")
}

// blobInTarget reports whether the target repository holds blob d.
func (w *hostileWorld) blobInTarget(d v1.Hash) bool {
	w.t.Helper()
	ref, err := name.NewDigest(w.test("web")+"@"+d.String(), name.Insecure)
	require.NoError(w.t, err)
	l, err := remote.Layer(ref)
	require.NoError(w.t, err)
	_, err = l.Size()
	return err == nil
}

// repushLying replaces dev/web:1.0 with its manifest changed by edit: the
// registry now holds (and hashes correctly) a manifest that lies.
func (w *hostileWorld) repushLying(edit func(m map[string]any)) {
	var m map[string]any
	require.NoError(w.t, json.Unmarshal(w.raw, &m))
	edit(m)
	b, err := json.Marshal(m)
	require.NoError(w.t, err)
	ref, err := name.ParseReference(w.dev("web") + ":1.0")
	require.NoError(w.t, err)
	require.NoError(w.t, remote.Put(ref, lyingManifest{b, types.DockerManifestSchema2}))
}

func (w *hostileWorld) layerSize(delta int64) func(m map[string]any) {
	return func(m map[string]any) {
		l := m["layers"].([]any)[0].(map[string]any)
		l["size"] = l["size"].(float64) + float64(delta)
	}
}

type lyingManifest struct {
	b  []byte
	mt types.MediaType
}

func (m lyingManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m lyingManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

type readCounter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c *readCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countedBody{ReadCloser: resp.Body, n: c.n}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// answerOn answers requests of method for path with f, and leaves the rest
// to the registry.
func answerOn(method, path string, f func(w http.ResponseWriter, r *http.Request)) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != path {
			return false
		}
		f(w, r)
		return true
	}
}

func resend(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func fakeReferrers(n int, pad int) []byte {
	descs := make([]string, n)
	for i := range descs {
		descs[i] = fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":512,"artifactType":"application/spdx+json","annotations":{"p":"%s"}}`, i, strings.Repeat("p", pad))
	}
	return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(descs, ",") + `]}`)
}

// A hostile source registry: each lie is refused with an error that names
// it, the exit class is a registry error (not a gate rejection or a
// conflict), nothing reaches the target (no manifest, no tag, no blob for
// the bad content; nothing at all when the lie is found before the copy)
// and the ledger gets no record. Run again against the registry once it is
// honest, the same promotion completes.
