package promote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// subjectOf describes what dev/api:1.0.0 names, for a referrer's subject.
func subjectOf(t *testing.T, w *world, app string) v1.Descriptor {
	t.Helper()
	h, err := http.Head("http://" + w.a.Host + "/v2/dev/" + app + "/manifests/1.0.0")
	require.NoError(t, err)
	h.Body.Close()
	var size int64
	_, _ = fmt.Sscan(h.Header.Get("Content-Length"), &size)
	d, err := v1.NewHash(h.Header.Get("Docker-Content-Digest"))
	require.NoError(t, err)
	return v1.Descriptor{MediaType: types.MediaType(h.Header.Get("Content-Type")), Digest: d, Size: size}
}

// relabelLayers rewrites every layer's media type in img's manifest (the
// blobs stay): what runtimes accept is looser than the OCI list.
func relabelLayers(t *testing.T, w *world, app string, img v1.Image, mt string, subject *v1.Descriptor) v1.Descriptor {
	t.Helper()
	regtest.Push(t, w.dev(app)+":blobs-"+strings.NewReplacer("/", "-", "+", "-", ".", "-").Replace(mt), img) // its blobs
	m, err := img.Manifest()
	require.NoError(t, err)
	m = m.DeepCopy()
	m.MediaType = types.OCIManifestSchema1
	m.Config.MediaType = types.OCIConfigJSON
	for i := range m.Layers {
		m.Layers[i].MediaType = types.MediaType(mt)
	}
	m.Subject = subject
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	return putRaw(t, w.dev(app), types.OCIManifestSchema1, raw)
}

// A runnable image attached to the promoted digest would land in the
// target by digest without any gate's word, whatever spelling of a layer
// type a runtime accepts: refused, as a referrer or under a cosign tag.
func TestRunnableAttachmentsAreRefused(t *testing.T) {
	for _, mt := range []string{
		"application/vnd.docker.image.rootfs.diff.tar.zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"Application/Vnd.Oci.Image.Layer.V1.Tar+Gzip",
		"application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
		"application/octet-stream",
	} {
		for _, how := range []string{"referrer", "cosign tag"} {
			t.Run(how+" "+mt, func(t *testing.T) {
				w := newWorld(t)
				w.push("api", "1.0.0", "1.0.0")
				subj := subjectOf(t, w, "api")
				var att v1.Descriptor
				if how == "referrer" {
					att = relabelLayers(t, w, "api", rootImage(t), mt, &subj)
				} else {
					att = relabelLayers(t, w, "api", rootImage(t), mt, nil)
					putTagged(t, w, "api", subj.Digest.Algorithm+"-"+subj.Digest.Hex+".sig", att)
				}
				res, err := w.promote(w.engine(), "test", "api:1.0.0")
				refused(t, w, "api", res, err, att.Digest.String(), "runnable image")
			})
		}
	}
}

// putTagged tags the manifest d describes in dev/app.
func putTagged(t *testing.T, w *world, app, tag string, d v1.Descriptor) {
	t.Helper()
	resp, err := http.Get("http://" + w.a.Host + "/v2/dev/" + app + "/manifests/" + d.Digest.String())
	require.NoError(t, err)
	defer resp.Body.Close()
	req, err := http.NewRequest(http.MethodPut, "http://"+w.a.Host+"/v2/dev/"+app+"/manifests/"+tag, resp.Body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", string(d.MediaType))
	put, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	put.Body.Close()
	require.Equal(t, http.StatusCreated, put.StatusCode)
}

// Artifacts that cannot run are attachments, copied as they are: an ORAS
// file (empty config, a tar layer) and one SBOM under two cosign tags (cosign
// attach sbom with one file on the index and on a platform).
func TestNonRunnableAttachmentsArrive(t *testing.T) {
	w := newWorld(t)
	idx := regtest.Index(t, regtest.Labels("1.0.0"), "1000")
	d := regtest.Push(t, w.dev("api")+":1.0.0", idx)
	subj := subjectOf(t, w, "api")
	oras := mutate.Subject(mutate.ConfigMediaType(artifact(t, static.NewLayer([]byte("report"), "application/vnd.oci.image.layer.v1.tar")),
		"application/vnd.oci.empty.v1+json"), subj).(v1.Image)
	orasD := regtest.Push(t, w.dev("api")+"@"+digestOf(t, oras).String(), oras)
	sbom := artifact(t, static.NewLayer([]byte(`{"spdxVersion":"SPDX-2.3"}`), "text/spdx+json"))
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	child := im.Manifests[0].Digest
	sbomD := regtest.Push(t, w.dev("api")+":"+d.Algorithm+"-"+d.Hex+".sbom", sbom)
	regtest.Push(t, w.dev("api")+":"+child.Algorithm+"-"+child.Hex+".sbom", sbom)

	_, err = w.promote(w.engine(), "test", "api:1.0.0")
	require.NoError(t, err)
	assert.Equal(t, orasD, w.digestOf(w.test("api")+"@"+orasD.String()))
	for _, of := range []v1.Hash{d, child} {
		assert.Equal(t, sbomD, w.digestOf(w.test("api")+":"+of.Algorithm+"-"+of.Hex+".sbom"), "both cosign tags arrived")
	}
}

// artifact is an OCI manifest of one layer, not runnable.
func artifact(t *testing.T, l v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: l})
	require.NoError(t, err)
	return img
}

// Image configs are read once however many images share one, and count
// against maxManifestBytes, by their declared sizes, before any is read.
func TestImageConfigsAreSharedAndCounted(t *testing.T) {
	w := newWorld(t)
	img := goodImage(t)
	var adds []mutate.IndexAddendum
	for i := range 24 { // 24 image manifests that differ only by an annotation
		adds = append(adds, mutate.IndexAddendum{Add: mutate.Annotations(img, map[string]string{"n": fmt.Sprint(i)}).(v1.Image),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)}}})
	}
	regtest.Push(t, w.dev("api")+":1.0.0", index(adds...))
	cfg, err := img.ConfigName()
	require.NoError(t, err)
	w.a.Requests()
	_, err = w.promote(w.engine(), "test", "api:1.0.0")
	require.NoError(t, err)
	n := 0
	for _, q := range w.a.Requests() {
		if q == "GET /v2/dev/api/blobs/"+cfg.String() {
			n++
		}
	}
	assert.Equal(t, 1, n, "the shared config is read once")

	w = newWorld(t)
	regtest.Push(t, w.dev("api")+":1.0.0", regtest.Index(t, regtest.Labels("1.0.0"), "1000"))
	w.cfg.Limits.MaxManifestBytes = 2400 // the index and its two images fit; their configs do not
	w.a.Requests()
	res, err := w.promote(w.engine(), "test", "api:1.0.0")
	refused(t, w, "api", res, err, "manifests and image configs exceed limits.maxManifestBytes 2400")
	for _, q := range w.a.Requests() {
		assert.NotContains(t, q, "GET /v2/dev/api/blobs/", "no config was read")
	}
}

// maxBlobs bounds the existence checks a tree makes the target answer.
func TestMaxBlobs(t *testing.T) {
	w := newWorld(t)
	w.cfg.Limits.MaxBlobs = 5
	regtest.Push(t, w.dev("api")+":1.0.0", regtest.Index(t, regtest.Labels("1.0.0"), "1000")) // 2 × (config + 2 layers)
	res, err := w.promote(w.engine(), "test", "api:1.0.0")
	refused(t, w, "api", res, err, "limits.maxBlobs 5")
}

// An attachment index that lists one index k times, which lists another k
// times, which lists an SBOM k times: five manifests, planned in linear time.
func TestRepeatedEntriesInAttachmentsArePlannedOnce(t *testing.T) {
	w := newWorld(t)
	d := w.push("api", "1.0.0", "1.0.0")
	sbom := artifact(t, static.NewLayer([]byte(`{"spdxVersion":"SPDX-2.3"}`), "text/spdx+json"))
	sbomD := regtest.Push(t, w.dev("api")+":sbom", sbom)
	raw, err := sbom.RawManifest()
	require.NoError(t, err)
	desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sbomD, Size: int64(len(raw))}
	const k = 2000
	for range 3 {
		entries := make([]v1.Descriptor, k)
		for i := range entries {
			entries[i] = desc
		}
		b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": types.OCIImageIndex, "manifests": entries})
		require.NoError(t, err)
		desc = putRaw(t, w.dev("api"), types.OCIImageIndex, b)
	}
	putTagged(t, w, "api", d.Algorithm+"-"+d.Hex+".att", desc)
	done := make(chan error, 1)
	go func() { _, err := w.promote(w.engine(), "test", "api:1.0.0"); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("planning a tree of five distinct manifests did not finish")
	}
	assert.Equal(t, desc.Digest, w.digestOf(w.test("api")+":"+d.Algorithm+"-"+d.Hex+".att"))
}

// Referrers are listed within the same bound on concurrent requests as the
// manifests are fetched: the client's lookups (four per job).
func TestReferrersListedWithinTheLookupBound(t *testing.T) {
	w := newHostileWorld(t)
	var adds []mutate.IndexAddendum
	for i := range 24 {
		adds = append(adds, mutate.IndexAddendum{Add: regtest.Image(t, 1, regtest.Labels("1.0"), "1000"),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprintf("arch%d", i)}}})
	}
	regtest.Push(t, w.src.Host+"/dev/web:1.0", index(adds...))
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	w.src.Set(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		n := inFlight.Add(1)
		mu.Lock()
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		return false
	})
	_, err := w.promoteWeb()
	require.NoError(t, err)
	lookups := w.engine().reg.Lookups()
	assert.Equal(t, 16, lookups, "four per job, four jobs by default")
	assert.LessOrEqual(t, int(peak.Load()), lookups, "at most %d requests at once", lookups)
	assert.Positive(t, peak.Load())
}
