package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faulty is an in-process registry whose answers a test can replace.
type faulty struct {
	Host string
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool // true: answered
	seen []string
}

func newFaulty(t *testing.T) *faulty {
	f := &faulty{}
	h := registry.New(registry.Logger(discardLog()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Method+" "+r.URL.Path)
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.Host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *faulty) set(hook func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook, f.seen = hook, nil
}

// count returns how many requests of method had path containing part.
func (f *faulty) count(method, part string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if strings.HasPrefix(s, method+" ") && strings.Contains(s, part) {
			n++
		}
	}
	return n
}

// reset breaks the connection with a TCP reset.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func fastClient(t *testing.T, insecure ...string) *Client {
	if insecure == nil {
		insecure = []string{"127.0.0.1"}
	}
	c, err := New(Options{Insecure: insecure, Retry: Retry{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}})
	require.NoError(t, err)
	return c
}

func pushRandom(t *testing.T, ref string) {
	img, err := random.Image(64<<10, 2)
	require.NoError(t, err)
	r, err := remoteRef(ref)
	require.NoError(t, err)
	require.NoError(t, remote.Write(r, img))
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFaulty(t)
	pushRandom(t, f.Host+"/a/app:1")
	throttled := false
	f.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") && !throttled {
			throttled = true
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := fastClient(t)
	repo, err := c.Repository(f.Host + "/a/app")
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Get(context.Background(), repo.Tag("1"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited as Retry-After said, not the 1 ms backoff")
	assert.Equal(t, 2, f.count("GET", "/manifests/"))
}

func TestRetryAfterBeyondTheBudgetGivesUpAtOnce(t *testing.T) {
	f := newFaulty(t)
	pushRandom(t, f.Host+"/a/app:1")
	f.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	c := fastClient(t)
	repo, _ := c.Repository(f.Host + "/a/app")
	_, err := c.Get(context.Background(), repo.Tag("1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "request rate limit was exceeded")
	assert.Equal(t, 1, f.count("GET", "/manifests/"))
}

func TestTheRegistrysErrorBodySurvivesTheRetries(t *testing.T) {
	f := newFaulty(t)
	f.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"storage backend on fire"}]}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := fastClient(t)
	repo, _ := c.Repository(f.Host + "/a/app")
	_, err := c.Get(context.Background(), repo.Tag("1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "storage backend on fire")
	assert.Equal(t, 8, f.count("GET", "/manifests/"), "eight attempts, one retry layer")
}

func TestPlainHTTPOnlyForInsecureHosts(t *testing.T) {
	f := newFaulty(t)
	pushRandom(t, f.Host+"/a/app:1")
	_, port, _ := net.SplitHostPort(f.Host)
	for _, insecure := range [][]string{{"example.com"}, {"127.0.0.1:1"}} {
		c := fastClient(t, insecure...)
		repo, err := c.Repository(f.Host + "/a/app")
		require.NoError(t, err)
		_, err = c.Head(context.Background(), repo.Tag("1"))
		require.Error(t, err, "insecure=%v", insecure)
		assert.Contains(t, err.Error(), "refusing plain HTTP to "+f.Host)
		assert.Contains(t, err.Error(), "--insecure-registry")
	}
	for _, insecure := range [][]string{{"127.0.0.1"}, {"127.0.0.1:" + port}} {
		c := fastClient(t, insecure...)
		repo, _ := c.Repository(f.Host + "/a/app")
		d, err := c.Head(context.Background(), repo.Tag("1"))
		require.NoError(t, err, "insecure=%v", insecure)
		assert.NotNil(t, d)
	}
}

func TestAFailedUploadRestartsItsSessionAndRereadsTheSource(t *testing.T) {
	src, dst := newFaulty(t), newFaulty(t)
	pushRandom(t, src.Host+"/a/app:1")
	c := fastClient(t)
	srepo, _ := c.Repository(src.Host + "/a/app")
	drepo, _ := c.Repository(dst.Host + "/b/app")
	m, err := c.Get(context.Background(), srepo.Tag("1"))
	require.NoError(t, err)
	layer := layersOf(t, m)[0]
	broken := false
	dst.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch && !broken {
			broken = true
			_, _ = io.CopyN(io.Discard, r.Body, 1000) // part of the blob arrives
			reset(w)
			return true
		}
		return false
	})
	require.NoError(t, c.CopyBlob(context.Background(), srepo, drepo, layer))
	assert.True(t, broken)
	assert.Equal(t, 2, dst.count("POST", "/blobs/uploads/"), "a new upload session")
	assert.Equal(t, 2, src.count("GET", layer.Digest.String()), "the blob was read again, not buffered")
	ok, err := c.BlobExists(context.Background(), drepo, layer.Digest)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestRequestsWithBodiesAreNotRetriedPerRequest(t *testing.T) {
	f := newFaulty(t)
	c := fastClient(t)
	repo, _ := c.Repository(f.Host + "/a/app")
	m := &Manifest{Type: types.OCIManifestSchema1, Raw: []byte(`{"schemaVersion":2}`)}
	m.Digest = digestOf(m.Raw)
	f.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	err := c.Put(context.Background(), repo.Tag("1"), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "try later")
	assert.Equal(t, restartAttempts, f.count("PUT", "/manifests/"), "restarted as an operation, never multiplied")
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

func remoteRef(s string) (name.Reference, error) { return name.ParseReference(s, name.Insecure) }

func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

func layersOf(t *testing.T, m *Manifest) []v1.Descriptor {
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	require.NoError(t, err)
	return mf.Layers
}

func TestTLSSpokenToAPlainHTTPServerIsNotRetried(t *testing.T) {
	check := checkRetry(time.Minute)
	ctx := context.WithValue(context.Background(), startKey{}, time.Now())
	retry, _ := check(ctx, nil, fmt.Errorf("Get \"https://x/v2/\": %w", http.ErrSchemeMismatch))
	assert.False(t, retry, "go-containerregistry falls back to HTTP at once, where allowed")
	retry, _ = check(ctx, nil, &net.OpError{Op: "read", Err: errors.New("connection reset by peer")})
	assert.True(t, retry, "a network error is retried")
}

func TestOnePingPerRegistryNotPerRepository(t *testing.T) {
	f := newFaulty(t)
	for _, app := range []string{"a", "b", "c"} {
		pushRandom(t, f.Host+"/"+app+"/app:1")
	}
	f.set(nil)
	c := fastClient(t)
	for _, app := range []string{"a", "b", "c"} {
		repo, err := c.Repository(f.Host + "/" + app + "/app")
		require.NoError(t, err)
		m, err := c.Get(context.Background(), repo.Tag("1"))
		require.NoError(t, err)
		require.NoError(t, c.CopyBlob(context.Background(), repo, repo, layersOf(t, m)[0]))
	}
	assert.Equal(t, 1, f.count("GET", "/v2/")-f.count("GET", "/v2/a")-f.count("GET", "/v2/b")-f.count("GET", "/v2/c"),
		"three repositories, read and written, one ping")
}
