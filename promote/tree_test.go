package promote

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// Trees a hostile dev pusher may build: each image manifest anywhere in
// the tree is judged, and a tree that cannot be judged is refused, recorded,
// and leaves the target untouched.

var amd64 = &v1.Platform{OS: "linux", Architecture: "amd64"}

// goodImage carries the labels and user the test environment's gates ask for.
func goodImage(t *testing.T) v1.Image { return regtest.Image(t, 2, regtest.Labels("1.0.0"), "1000") }

// rootImage has no labels and runs as root: every per-image gate says no.
func rootImage(t *testing.T) v1.Image { return regtest.Image(t, 2, nil, "") }

func index(adds ...mutate.IndexAddendum) v1.ImageIndex {
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func digestOf(t *testing.T, x partial.WithRawManifest) v1.Hash {
	d, err := partial.Digest(x)
	require.NoError(t, err)
	return d
}

// putRaw writes raw bytes as a manifest of type mt under repo@digest.
func putRaw(t *testing.T, repo string, mt types.MediaType, raw []byte) v1.Descriptor {
	t.Helper()
	m := lyingManifest{raw, mt}
	d := digestOf(t, m)
	ref, err := name.ParseReference(repo + "@" + d.String())
	require.NoError(t, err)
	require.NoError(t, remote.Put(ref, m))
	return v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))}
}

// attestation is a buildkit-style attestation manifest of subject: in-toto
// layers, an unknown/unknown config.
func attestation(t *testing.T, subject v1.Hash) v1.Image {
	stmt := static.NewLayer([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"`+subject.Hex+`"}}]}`), inTotoLayerType)
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: stmt})
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "unknown", "unknown"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

func attestationDescriptor(of v1.Hash) v1.Descriptor {
	return v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{annotRefType: refTypeAttestaton, annotRefDigest: of.String()}}
}

// refused asserts that promoting app:1.0.0 to test was refused as a gate
// rejection, recorded as rejected, and wrote nothing to the test repository.
func refused(t *testing.T, w *world, app string, res *Result, err error, wants ...string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, errs.ErrGateRejected)
	for _, want := range wants {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, w.tags(w.test(app)), "no tag in test")
	recs := w.records(ledger.Query{App: app, Env: "test"})
	require.Len(t, recs, 1)
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	if res != nil {
		assert.Equal(t, res.Digest, recs[0].Digest)
	}
}

// gateEvidence returns one gate's evidence as JSON.
func gateEvidence(t *testing.T, res *Result, gate string) string {
	t.Helper()
	for _, g := range res.Gates {
		if g.Name == gate {
			b, err := json.Marshal(g.Evidence)
			require.NoError(t, err)
			return string(b)
		}
	}
	t.Fatalf("no %s gate in %v", gate, res.Gates)
	return ""
}

func TestNestedIndexImagesAreJudged(t *testing.T) {
	w := newWorld(t)
	good, bad := goodImage(t), rootImage(t)
	inner := index(mutate.IndexAddendum{Add: bad, Descriptor: v1.Descriptor{Platform: amd64}})
	regtest.Push(t, w.dev("api")+":1.0.0", index(
		mutate.IndexAddendum{Add: good, Descriptor: v1.Descriptor{Platform: amd64}},
		mutate.IndexAddendum{Add: inner}))

	res, err := w.promote(w.engine(), "test", "api:1.0.0")
	badD := digestOf(t, bad)
	refused(t, w, "api", res, err, "nonroot", "labels", badD.String())
	assert.Equal(t, v1.Hash{}, w.digestOf(w.test("api")+"@"+badD.String()), "the nested image was not copied")
	for _, g := range []string{"nonroot", "labels"} {
		ev := gateEvidence(t, res, g)
		assert.Contains(t, ev, badD.String(), "%s names the nested image it judged", g)
		assert.Contains(t, ev, digestOf(t, good).String(), "%s names the top-level image it judged", g)
	}
}

func TestAttestationAnnotationAloneDoesNotExempt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		entry  func(t *testing.T, good v1.Hash) (v1.Image, v1.Descriptor)
		passes bool
	}{{
		name: "genuine buildkit attestation is copied, not judged",
		entry: func(t *testing.T, good v1.Hash) (v1.Image, v1.Descriptor) {
			return attestation(t, good), attestationDescriptor(good)
		},
		passes: true,
	}, {
		name: "root image annotated as an attestation of its sibling",
		entry: func(t *testing.T, good v1.Hash) (v1.Image, v1.Descriptor) {
			return rootImage(t), attestationDescriptor(good)
		},
	}, {
		name: "annotation on a runnable platform",
		entry: func(t *testing.T, good v1.Hash) (v1.Image, v1.Descriptor) {
			d := attestationDescriptor(good)
			d.Platform = &v1.Platform{OS: "linux", Architecture: "arm64"}
			return rootImage(t), d
		},
	}, {
		name: "in-toto layers naming no sibling",
		entry: func(t *testing.T, good v1.Hash) (v1.Image, v1.Descriptor) {
			other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
			return attestation(t, other), attestationDescriptor(other)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			good := goodImage(t)
			entry, desc := tc.entry(t, digestOf(t, good))
			regtest.Push(t, w.dev("api")+":1.0.0", index(
				mutate.IndexAddendum{Add: good, Descriptor: v1.Descriptor{Platform: amd64}},
				mutate.IndexAddendum{Add: entry, Descriptor: desc}))
			res, err := w.promote(w.engine(), "test", "api:1.0.0")
			if tc.passes {
				require.NoError(t, err)
				assert.Equal(t, digestOf(t, entry), w.digestOf(w.test("api")+"@"+digestOf(t, entry).String()), "the attestation arrived")
				assert.NotContains(t, gateEvidence(t, res, "nonroot"), digestOf(t, entry).String())
				return
			}
			refused(t, w, "api", res, err, "nonroot", "labels")
			assert.Contains(t, gateEvidence(t, res, "nonroot"), digestOf(t, entry).String(), "the entry was judged as an image")
		})
	}
}

func TestUnknownManifestTypesAreRefused(t *testing.T) {
	w := newWorld(t)
	good := goodImage(t)
	goodD := regtest.Push(t, w.dev("api")+":good", good)
	goodRaw, err := good.RawManifest()
	require.NoError(t, err)
	widget := putRaw(t, w.dev("api"), "application/vnd.example.widget+json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.example.widget+json"}`))
	idx := map[string]any{"schemaVersion": 2, "mediaType": types.OCIImageIndex, "manifests": []v1.Descriptor{
		{MediaType: types.DockerManifestSchema2, Digest: goodD, Size: int64(len(goodRaw)), Platform: amd64}, widget}}
	raw, err := json.Marshal(idx)
	require.NoError(t, err)
	root := putRaw(t, w.dev("api"), types.OCIImageIndex, raw)
	res, err := w.promote(w.engine(), "test", "api@"+root.Digest.String())
	refused(t, w, "api", res, err, widget.Digest.String(), "application/vnd.example.widget+json")
}

func TestAttachmentsThatAreImagesAreRefused(t *testing.T) {
	w := newWorld(t)
	d := w.push("api", "1.0.0", "1.0.0")
	raw, err := remote.Get(mustRef(t, w.dev("api")+":1.0.0"))
	require.NoError(t, err)
	subject := v1.Descriptor{MediaType: raw.MediaType, Digest: d, Size: raw.Size}
	// A runnable root image attached as a referrer: copied as an
	// attachment, it would sit in test by digest without any gate's word.
	img := mutate.Subject(rootImage(t), subject).(v1.Image)
	regtest.Push(t, w.dev("api")+"@"+digestOf(t, img).String(), img)
	res, err := w.promote(w.engine(), "test", "api:1.0.0")
	refused(t, w, "api", res, err, digestOf(t, img).String(), "filesystem layer")
}

func mustRef(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(s)
	require.NoError(t, err)
	return r
}

// A digest listed many times is fetched once and judged once, its
// referrers and cosign tags looked up once.
func TestRepeatedIndexEntriesAreFetchedOnce(t *testing.T) {
	w := newWorld(t)
	good := goodImage(t)
	goodD := regtest.Push(t, w.dev("api")+":good", good)
	goodRaw, err := good.RawManifest()
	require.NoError(t, err)
	entries := make([]v1.Descriptor, 3000)
	for i := range entries {
		entries[i] = v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: goodD, Size: int64(len(goodRaw)), Platform: amd64}
	}
	raw, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": types.OCIImageIndex, "manifests": entries})
	require.NoError(t, err)
	root := putRaw(t, w.dev("api"), types.OCIImageIndex, raw)
	w.a.Requests()
	res, err := w.promote(w.engine(), "test", "api@"+root.Digest.String(), "1.0.0")
	require.NoError(t, err)
	n := map[string]int{}
	for _, q := range w.a.Requests() {
		n[q]++
	}
	assert.Equal(t, 1, n["GET /v2/dev/api/manifests/"+goodD.String()], "the child is fetched once")
	assert.Equal(t, 1, n["GET /v2/dev/api/referrers/"+goodD.String()], "its referrers are listed once")
	assert.Equal(t, 1, n["GET /v2/dev/api/manifests/"+goodD.Algorithm+"-"+goodD.Hex+".sig"], "its cosign tag is looked up once")
	assert.Equal(t, goodD, w.digestOf(w.test("api")+"@"+goodD.String()))
	assert.Equal(t, root.Digest, w.digestOf(w.test("api")+":1.0.0"), "the index arrived byte for byte")
	assert.Len(t, res.Gates, 2)
	assert.Equal(t, fmt.Sprint([]string{"linux/amd64"}), fmt.Sprint(platformsOf(res)))
}

func platformsOf(res *Result) []string {
	var out []string
	for _, g := range res.Gates {
		if g.Name == "nonroot" {
			for p := range g.Evidence["users"].(map[string]string) {
				out = append(out, p)
			}
		}
	}
	return out
}
