package regtest

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"
)

// Labels every good test image carries.
func Labels(version string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.source":   "https://example.com/app",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.version":  version,
	}
}

// Image builds a random image with layers, labels and a user.
func Image(t testing.TB, layers int, labels map[string]string, user string) v1.Image {
	t.Helper()
	img, err := random.Image(1024, int64(layers))
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.Labels = labels
	cf.Config.User = user
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// Index builds a two-platform index (linux/amd64, linux/arm64).
func Index(t testing.TB, labels map[string]string, user string) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img := Image(t, 2, labels, user)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		cf = cf.DeepCopy()
		cf.Architecture = arch
		img, err = mutate.ConfigFile(img, cf)
		require.NoError(t, err)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// Push writes t (an image or index) under ref.
func Push(t testing.TB, ref string, x remote.Taggable) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	switch v := x.(type) {
	case v1.ImageIndex:
		require.NoError(t, remote.WriteIndex(r, v))
		d, err := v.Digest()
		require.NoError(t, err)
		return d
	case v1.Image:
		require.NoError(t, remote.Write(r, v))
		d, err := v.Digest()
		require.NoError(t, err)
		return d
	}
	require.NoError(t, remote.Put(r, x))
	return v1.Hash{}
}

// CosignSignature pushes a cosign-style legacy signature manifest for d
// under repo:sha256-<hex>.sig and returns its digest.
func CosignSignature(t testing.TB, repo string, d v1.Hash) v1.Hash {
	t.Helper()
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + repo + `"},"image":{"docker-manifest-digest":"` + d.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	layer := static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json")
	img, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		mutate.Addendum{Layer: layer, Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDfake"}})
	require.NoError(t, err)
	return Push(t, repo+":"+d.Algorithm+"-"+d.Hex+".sig", img)
}

// Referrer pushes an OCI 1.1 artifact (an SBOM, say) whose subject is the
// manifest desc describes and returns its digest.
func Referrer(t testing.TB, repo string, subject v1.Descriptor, artifactType string) v1.Hash {
	t.Helper()
	layer := static.NewLayer([]byte(`{"sbom":"`+subject.Digest.String()+`"}`), types.MediaType(artifactType))
	img, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.MediaType(artifactType)), types.OCIManifestSchema1),
		mutate.Addendum{Layer: layer})
	require.NoError(t, err)
	img = mutate.Subject(img, subject).(v1.Image)
	d, err := img.Digest()
	require.NoError(t, err)
	r, err := name.ParseReference(repo + "@" + d.String())
	require.NoError(t, err)
	require.NoError(t, remote.Write(r, img))
	return d
}
