package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A blob from another registry goes in two requests to the target: the
// session's POST and one PUT carrying the blob with its digest.
func TestACopiedBlobIsOnePOSTAndOnePUT(t *testing.T) {
	p := newCopyPair(t)
	layer := layersOf(t, p.m)[0]
	p.dst.Set(nil)
	require.NoError(t, p.c.CopyBlob(context.Background(), p.srepo, p.drepo, layer))
	assert.Equal(t, 1, p.dst.Count("POST", "/blobs/uploads/"))
	assert.Equal(t, 1, p.dst.Count("PUT", "/blobs/uploads/"))
	assert.Zero(t, p.dst.Count("PATCH", "/"), "no chunk")
	assert.Zero(t, p.dst.Count("HEAD", "/"), "no existence check: the caller's survey asked")
	assert.True(t, p.inTarget(t, layer.Digest))
}

// A registry that refuses a blob in one PUT gets the chunked upload (POST,
// PATCH, PUT), for that blob and, without asking again, every later one.
func TestARegistryRefusingTheMonolithicUploadGetsChunks(t *testing.T) {
	for _, status := range []int{http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType, http.StatusNotImplemented} {
		p := newCopyPair(t)
		dst, c, srepo, drepo, m := p.dst, p.c, p.srepo, p.drepo, p.m
		dst.Set(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && r.ContentLength > 0 {
				w.WriteHeader(status)
				return true
			}
			return false
		})
		for _, l := range layersOf(t, m) {
			require.NoError(t, c.CopyBlob(context.Background(), srepo, drepo, l), "status %d", status)
			assert.True(t, p.inTarget(t, l.Digest))
		}
		_, err := c.PutBlob(context.Background(), drepo, types.OCIConfigJSON, []byte(`{"a":1}`))
		require.NoError(t, err)
		n := len(layersOf(t, m))
		assert.Equal(t, 1, countBody(dst.Requests(), "PUT"), "status %d: one monolithic PUT refused, then none tried", status)
		assert.Equal(t, n+1, dst.Count("PATCH", "/blobs/uploads/"), "status %d: every blob chunked", status)
	}
}

// An upload session placed on another host is not followed with the blob
// by promote's own upload; go-containerregistry's takes over.
func TestAnUploadSessionElsewhereIsLeftToTheChunkedUpload(t *testing.T) {
	p, other := newCopyPair(t), newFaulty(t)
	dst, c, srepo, drepo, m := p.dst, p.c, p.srepo, p.drepo, p.m
	first := true
	dst.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && first {
			first = false
			w.Header().Set("Location", "http://"+other.Host+"/v2/b/app/blobs/uploads/x")
			w.WriteHeader(http.StatusAccepted)
			return true
		}
		return false
	})
	other.Set(nil)
	require.NoError(t, c.CopyBlob(context.Background(), srepo, drepo, layersOf(t, m)[0]))
	assert.Empty(t, other.Requests(), "nothing sent to the other host")
	assert.Equal(t, 1, dst.Count("PATCH", "/blobs/uploads/"))
}

// countBody counts logged requests of method to an upload session that
// carried a body; Hooked logs no bodies, so the PUTs of chunked uploads
// (after a PATCH of the same session) are told apart by their session.
func countBody(reqs []string, method string) int {
	patched := map[string]bool{}
	for _, q := range reqs {
		if m, rest, _ := strings.Cut(q, " "); m == http.MethodPatch {
			path, _, _ := strings.Cut(rest, " ")
			patched[path] = true
		}
	}
	n := 0
	for _, q := range reqs {
		m, rest, _ := strings.Cut(q, " ")
		path, _, _ := strings.Cut(rest, " ")
		if m == method && strings.Contains(path, "/blobs/uploads/") && !patched[path] {
			n++
		}
	}
	return n
}
