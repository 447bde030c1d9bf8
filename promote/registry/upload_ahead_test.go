package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sessions opened ahead go out at most Lookups at once, however many
// blobs a plan streams.
func TestSessionsOpenedAheadAreBounded(t *testing.T) {
	dst := newFaulty(t)
	var cur, peak atomic.Int64
	dst.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			n := cur.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			cur.Add(-1)
		}
		return false
	})
	c := fastClient(t)
	drepo, _ := c.Repository(dst.Host + "/b/app")
	var descs []v1.Descriptor
	for i := range 100 {
		h, _ := v1.NewHash(fmt.Sprintf("sha256:%064x", i))
		descs = append(descs, v1.Descriptor{Digest: h, Size: 1})
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.OpenUploads(ctx, drepo, descs)
	require.Eventually(t, func() bool { return dst.Count("POST", "/blobs/uploads/") == 100 }, 10*time.Second, 10*time.Millisecond)
	assert.LessOrEqual(t, peak.Load(), int64(c.Lookups()), "at most Lookups at once")
	assert.Positive(t, peak.Load())
	cancel()
	require.Eventually(t, func() bool {
		c.pushes.mu.Lock()
		defer c.pushes.mu.Unlock()
		return len(c.pushes.sessions) == 0
	}, time.Second, 5*time.Millisecond, "sessions not taken are forgotten when the caller is done")
}

// A session opened ahead that the registry no longer knows (expired) costs
// the upload a new session, not the promotion.
func TestAStaleSessionOpenedAheadIsReplaced(t *testing.T) {
	p := newCopyPair(t)
	dst, c, srepo, drepo := p.dst, p.c, p.srepo, p.drepo
	layer := layersOf(t, p.m)[0]
	c.OpenUploads(context.Background(), drepo, []v1.Descriptor{layer})
	require.Eventually(t, func() bool { return dst.Count("POST", "/blobs/uploads/") == 1 }, 5*time.Second, 5*time.Millisecond)
	var stale atomic.Bool
	dst.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && !stale.Swap(true) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"upload expired"}]}`))
			return true
		}
		return false
	})
	require.NoError(t, c.CopyBlob(context.Background(), srepo, drepo, layer))
	assert.True(t, stale.Load())
	assert.Equal(t, 1, dst.Count("POST", "/blobs/uploads/"), "a new session")
	assert.True(t, p.inTarget(t, layer.Digest))
}
