package promote

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
)

func descriptorOf(d v1.Hash, mt types.MediaType, raw []byte) v1.Descriptor {
	return v1.Descriptor{Digest: d, MediaType: mt, Size: int64(len(raw))}
}

// A manifest whose bytes would change if re-serialised (odd spacing, key
// order, an unknown field) arrives with the same digest and the same bytes.
func TestManifestBytesSurviveTheCopy(t *testing.T) {
	w := newWorld(t)
	img := regtest.Image(t, 1, regtest.Labels("3.0"), "1000")
	// Push the blobs through a normal write, then replace the manifest.
	regtest.Push(t, w.dev("odd")+":tmp", img)
	m, err := img.Manifest()
	require.NoError(t, err)
	cfg := m.Config
	l := m.Layers[0]
	raw := []byte("{\n   \"schemaVersion\" : 2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\n" +
		"\"x-unknown\": [1, 2.50, \"\\u00e9\"],\n" +
		"\"layers\":[{\"size\":" + itoa(l.Size) + ",\"digest\":\"" + l.Digest.String() + "\",\"mediaType\":\"" + string(l.MediaType) + "\"}],\n" +
		"\"config\":{\"mediaType\":\"" + string(cfg.MediaType) + "\",\"size\":" + itoa(cfg.Size) + ",\"digest\":\"" + cfg.Digest.String() + "\"}\n}\n")
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	require.NoError(t, err)
	ref, err := name.ParseReference(w.dev("odd") + ":3.0")
	require.NoError(t, err)
	require.NoError(t, remote.Put(ref, &registry.Manifest{Digest: d, Type: types.DockerManifestSchema2, Raw: raw}))

	res, err := w.promote(w.engine(), "test", "odd:3.0")
	require.NoError(t, err)
	assert.Equal(t, d.String(), res.Digest)
	tref, err := name.ParseReference(w.test("odd") + ":3.0")
	require.NoError(t, err)
	got, err := remote.Get(tref)
	require.NoError(t, err)
	assert.Equal(t, d, got.Digest)
	assert.Equal(t, string(raw), string(got.Manifest), "byte for byte")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
