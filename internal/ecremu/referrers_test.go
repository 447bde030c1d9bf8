package ecremu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

const (
	sigType  = "application/vnd.dev.sigstore.bundle.v0.3+json"
	sbomType = "application/spdx+json"
)

// artifact is a small OCI artifact manifest referring to subject.
func artifact(t *testing.T, subject v1.Image, artifactType string) v1.Image {
	t.Helper()
	mt, err := subject.MediaType()
	require.NoError(t, err)
	size, err := subject.Size()
	require.NoError(t, err)
	h, err := subject.Digest()
	require.NoError(t, err)
	a := mutate.ConfigMediaType(mutate.MediaType(randomImage(t), types.OCIManifestSchema1), types.MediaType(artifactType))
	a = mutate.Annotations(a, map[string]string{"kind": artifactType}).(v1.Image)
	return mutate.Subject(a, v1.Descriptor{MediaType: mt, Size: size, Digest: h}).(v1.Image)
}

func TestReferrers(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, "test/app", ecremu.Immutable)
	kc := ecrKeychain(t, client)
	opts := remoteOpts(kc)
	img := ociImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app:1.0.0"), img, opts...))
	subject := digestOf(t, img)

	sig, sbom := artifact(t, img, sigType), artifact(t, img, sbomType)
	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app@"+digestOf(t, sig)), sig, opts...))
	require.NoError(t, remote.Write(ref(t, srv, acctA, "test/app@"+digestOf(t, sbom)), sbom, opts...))
	// PUT again by digest (always accepted) to see the response headers.
	resp := do(t, kc, http.MethodPut, srv.URL+"/v2/test/app/manifests/"+digestOf(t, sbom), rawManifest(t, sbom),
		map[string]string{"Content-Type": string(types.OCIManifestSchema1)})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, subject, resp.Header.Get("OCI-Subject"))
	assert.Equal(t, digestOf(t, sbom), resp.Header.Get("Docker-Content-Digest"))

	d := ref(t, srv, acctA, "test/app@"+subject).Context().Digest(subject)
	idx, err := remote.Referrers(d, opts...)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 2)
	got := map[string]string{}
	for _, m := range im.Manifests {
		got[m.ArtifactType] = m.Digest.String()
		assert.Equal(t, types.OCIManifestSchema1, m.MediaType)
		assert.Equal(t, m.ArtifactType, m.Annotations["kind"])
	}
	assert.Equal(t, map[string]string{sigType: digestOf(t, sig), sbomType: digestOf(t, sbom)}, got)

	resp = do(t, kc, http.MethodGet, srv.URL+"/v2/test/app/referrers/"+subject+"?artifactType="+url.QueryEscape(sbomType), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "artifactType", resp.Header.Get("OCI-Filters-Applied"))
	assert.Equal(t, string(types.OCIImageIndex), resp.Header.Get("Content-Type"))
	var filtered v1.IndexManifest
	require.NoError(t, json.Unmarshal([]byte(readAll(t, resp)), &filtered))
	require.Len(t, filtered.Manifests, 1)
	assert.Equal(t, digestOf(t, sbom), filtered.Manifests[0].Digest.String())

	resp = do(t, kc, http.MethodGet, srv.URL+"/v2/test/app/referrers/"+digestOf(t, sig), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, readAll(t, resp))

	out, err := client.DescribeImages(context.Background(), &ecr.DescribeImagesInput{
		RepositoryName: aws.String("test/app"), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digestOf(t, sig))}}})
	require.NoError(t, err)
	assert.Equal(t, subject, aws.ToString(out.ImageDetails[0].SubjectManifestDigest))
	assert.Empty(t, out.ImageDetails[0].ImageTags, "pushed by digest: no tag in an immutable repository")
}
