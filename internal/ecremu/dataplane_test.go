package ecremu_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

func TestPushPullImageAndIndex(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)
	kc := ecrKeychain(t, client)
	opts := remoteOpts(kc)

	for name, img := range map[string]v1.Image{"docker": randomImage(t), "oci": ociImage(t)} {
		r := ref(t, srv, acctA, testRepo+":"+name)
		require.NoError(t, remote.Write(r, img, opts...), name)
		desc, err := remote.Get(r, opts...)
		require.NoError(t, err)
		assert.Equal(t, rawManifest(t, img), desc.Manifest, "stored byte for byte")
		assert.Equal(t, digestOf(t, img), desc.Digest.String())
		mt, _ := img.MediaType()
		assert.Equal(t, mt, desc.MediaType)
		pulled, err := desc.Image()
		require.NoError(t, err)
		layers, err := pulled.Layers()
		require.NoError(t, err)
		rc, err := layers[0].Compressed() // follows the 307 to the presigned URL
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}

	idx, err := random.Index(256, 1, 2)
	require.NoError(t, err)
	r := ref(t, srv, acctA, testRepo+":multi")
	require.NoError(t, remote.WriteIndex(r, idx, opts...))
	desc, err := remote.Head(r, opts...)
	require.NoError(t, err)
	assert.Equal(t, digestOf(t, idx), desc.Digest.String())
	got, err := remote.Index(r, opts...)
	require.NoError(t, err)
	assert.Equal(t, rawManifest(t, idx), rawManifest(t, got))

	tags, err := remote.List(ref(t, srv, acctA, testRepo).Context(), opts...)
	require.NoError(t, err)
	assert.Equal(t, []string{"docker", "multi", "oci"}, tags)
	assert.Equal(t, 5, srv.Count("PutImage"), "each manifest PUT (two images, two children by digest, the index) is a PutImage")
}

func TestRegistryAuth(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)

	resp := do(t, nil, http.MethodGet, srv.URL+"/v2/", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Basic realm="`+srv.URL+`/",service="ecr.amazonaws.com"`, resp.Header.Get("WWW-Authenticate"))

	kc := ecrKeychain(t, client)
	resp = do(t, kc, http.MethodGet, srv.URL+"/v2/", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	bad := keychain{srv.RegistryHost(acctA): &authn.Basic{Username: "AWS", Password: "forged"}}
	err := remote.Write(ref(t, srv, acctA, testRepo+":x"), randomImage(t), remoteOpts(bad)...)
	require.Error(t, err)

	srv.Advance(12*time.Hour + time.Second)
	err = remote.Write(ref(t, srv, acctA, testRepo+":late"), randomImage(t), remoteOpts(kc)...)
	status, _, _ := registryError(t, err)
	assert.Equal(t, http.StatusForbidden, status, "ECR answers an expired token with 403")
	resp = do(t, kc, http.MethodGet, srv.URL+"/v2/"+testRepo+"/tags/list", nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.JSONEq(t, `{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}`, readAll(t, resp))

	fresh := ecrKeychain(t, client) // the SDK's signature is not time-checked
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":late"), randomImage(t), remoteOpts(fresh)...))
}

func TestMissingRepository(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	kc := ecrKeychain(t, defaultClient(t, srv))
	err := remote.Write(ref(t, srv, acctA, "no/such:v1"), randomImage(t), remoteOpts(kc)...)
	status, code, msg := registryError(t, err)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "NAME_UNKNOWN", code)
	assert.Equal(t, "The repository with name 'no/such' does not exist in the registry with id '111111111111'", msg)
}

func TestBlobsArePerRepository(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, "a/src", ecremu.Mutable)
	createRepo(t, client, "a/dst", ecremu.Mutable)
	kc := ecrKeychain(t, client)
	img := randomImage(t)
	require.NoError(t, remote.Write(ref(t, srv, acctA, "a/src:v1"), img, remoteOpts(kc)...))
	layers, err := img.Layers()
	require.NoError(t, err)
	layer := digestOf(t, layers[0])

	resp := do(t, kc, http.MethodHead, srv.URL+"/v2/a/src/blobs/"+layer, nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, layer, resp.Header.Get("Docker-Content-Digest"))
	resp = do(t, kc, http.MethodHead, srv.URL+"/v2/a/dst/blobs/"+layer, nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "not visible in another repository")

	resp = do(t, kc, http.MethodPut, srv.URL+"/v2/a/dst/manifests/v1", rawManifest(t, img),
		map[string]string{"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, readAll(t, resp), `"MANIFEST_BLOB_UNKNOWN"`)

	mountURL := srv.URL + "/v2/a/dst/blobs/uploads/?mount=" + layer + "&from=a/src"
	resp = do(t, kc, http.MethodPost, mountURL, nil, nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "BLOB_MOUNTING is disabled by default: an upload starts")

	srv.Default().SetBlobMounting(true)
	resp = do(t, kc, http.MethodPost, srv.URL+"/v2/a/dst/blobs/uploads/?mount="+layer+"&from=a/missing", nil, nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "source without the blob")
	resp = do(t, kc, http.MethodPost, mountURL, nil, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "/v2/a/dst/blobs/"+layer, resp.Header.Get("Location"))
	resp = do(t, kc, http.MethodHead, srv.URL+"/v2/a/dst/blobs/"+layer, nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "mounted")
}

func TestChunkedUploadAndPresignedURL(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)
	kc := ecrKeychain(t, client)
	blob := bytes.Repeat([]byte("0123456789"), 100)
	digest := sha256Digest(blob)

	resp := do(t, kc, http.MethodPost, srv.URL+"/v2/"+testRepo+"/blobs/uploads/", nil, nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	loc := srv.URL + resp.Header.Get("Location")
	resp = do(t, kc, http.MethodPatch, loc, blob[:600], map[string]string{"Content-Range": "0-599"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, "0-599", resp.Header.Get("Range"))
	resp = do(t, kc, http.MethodPatch, loc, blob[600:], map[string]string{"Content-Range": "500-899"})
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode, "out of order")
	resp = do(t, kc, http.MethodPatch, loc, blob[600:], map[string]string{"Content-Range": "600-999"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	resp = do(t, kc, http.MethodPut, loc+"?digest="+sha256Digest([]byte("other")), nil, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, readAll(t, resp), "DIGEST_INVALID")
	resp = do(t, kc, http.MethodPut, loc+"?digest="+digest, nil, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, digest, resp.Header.Get("Docker-Content-Digest"))

	resp = do(t, kc, http.MethodGet, srv.URL+"/v2/"+testRepo+"/blobs/"+digest, nil, nil)
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode, "ECR redirects blob downloads")
	presigned := resp.Header.Get("Location")
	resp = do(t, nil, http.MethodGet, presigned, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "presigned: no registry credentials needed")
	assert.Equal(t, blob, []byte(readAll(t, resp)))
	srv.Advance(2 * time.Hour)
	resp = do(t, nil, http.MethodGet, presigned, nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "presigned URL expired")
}

func TestDataPlaneThrottling(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)
	kc := ecrKeychain(t, client)
	srv.ThrottleRegistry(2)
	resp := do(t, kc, http.MethodGet, srv.URL+"/v2/"+testRepo+"/tags/list", nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Contains(t, readAll(t, resp), "TOOMANYREQUESTS")
	require.NoError(t, remote.Write(ref(t, srv, acctA, testRepo+":v1"), randomImage(t), remoteOpts(kc)...),
		"go-containerregistry retries 429")
}

func TestManifestEndpoints(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	createRepo(t, client, testRepo, ecremu.Mutable)
	kc := ecrKeychain(t, client)
	opts := remoteOpts(kc)
	idx, err := random.Index(128, 1, 1)
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref(t, srv, acctA, testRepo+":multi"), idx, opts...))
	base := srv.URL + "/v2/" + testRepo

	resp := do(t, kc, http.MethodHead, base+"/manifests/multi", nil, map[string]string{"Accept": ecremu.MediaTypeOCIIndex})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, ecremu.MediaTypeOCIIndex, resp.Header.Get("Content-Type"))
	assert.Equal(t, digestOf(t, idx), resp.Header.Get("Docker-Content-Digest"))
	assert.Equal(t, strconv.Itoa(len(rawManifest(t, idx))), resp.Header.Get("Content-Length"))

	resp = do(t, kc, http.MethodGet, base+"/manifests/multi", nil, map[string]string{"Accept": ecremu.MediaTypeDockerManifest})
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.JSONEq(t, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"OCI index found, but accept header does not support OCI indexes"}]}`, readAll(t, resp))

	resp = do(t, kc, http.MethodGet, base+"/manifests/absent", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, readAll(t, resp), "MANIFEST_UNKNOWN")
	resp = do(t, kc, http.MethodPut, base+"/manifests/x", []byte(`{"schemaVersion":2}`), map[string]string{"Content-Type": "application/x-unknown"})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, readAll(t, resp), "MANIFEST_INVALID")

	for _, tag := range []string{"b", "c", "d"} {
		require.NoError(t, remote.WriteIndex(ref(t, srv, acctA, testRepo+":"+tag), idx, opts...))
	}
	resp = do(t, kc, http.MethodGet, base+"/tags/list?n=2", nil, nil)
	assert.JSONEq(t, `{"name":"dev/app","tags":["b","c"]}`, readAll(t, resp))
	assert.Equal(t, `</v2/dev/app/tags/list?last=c&n=2>; rel="next"`, resp.Header.Get("Link"))
	resp = do(t, kc, http.MethodGet, base+"/tags/list?n=2&last=c", nil, nil)
	assert.JSONEq(t, `{"name":"dev/app","tags":["d","multi"]}`, readAll(t, resp))

	resp = do(t, kc, http.MethodDelete, base+"/manifests/b", nil, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "delete by tag is refused")
	resp = do(t, kc, http.MethodDelete, base+"/manifests/"+digestOf(t, idx), nil, nil)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	tags, err := srv.Default().Tags(testRepo)
	require.NoError(t, err)
	assert.Empty(t, tags, "deleting the image removes its tags")
}
