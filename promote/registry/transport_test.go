package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
)

// faulty is a registry whose answers a test can replace.
type faulty = regtest.Hooked

func newFaulty(t *testing.T) *faulty { return regtest.NewHooked(t) }

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
	f.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
	assert.Equal(t, 2, f.Count("GET", "/manifests/"))
}

func TestRetryAfterBeyondTheBudgetGivesUpAtOnce(t *testing.T) {
	f := newFaulty(t)
	pushRandom(t, f.Host+"/a/app:1")
	f.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
	assert.Equal(t, 1, f.Count("GET", "/manifests/"))
}

func TestTheRegistrysErrorBodySurvivesTheRetries(t *testing.T) {
	f := newFaulty(t)
	f.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
	assert.Equal(t, 8, f.Count("GET", "/manifests/"), "eight attempts, one retry layer")
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
	p := newCopyPair(t)
	src, dst, c, srepo, drepo := p.src, p.dst, p.c, p.srepo, p.drepo
	layer := layersOf(t, p.m)[0]
	broken := false
	dst.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if faults.IsBlobBody(r) && !broken {
			broken = true
			_, _ = io.CopyN(io.Discard, r.Body, 1000) // part of the blob arrives
			reset(w)
			return true
		}
		return false
	})
	require.NoError(t, c.CopyBlob(context.Background(), srepo, drepo, layer))
	assert.True(t, broken)
	assert.Equal(t, 2, dst.Count("POST", "/blobs/uploads/"), "a new upload session")
	assert.Equal(t, 2, src.Count("GET", layer.Digest.String()), "the blob was read again, not buffered")
	assert.True(t, p.inTarget(t, layer.Digest))
}

func TestRequestsWithBodiesAreNotRetriedPerRequest(t *testing.T) {
	f := newFaulty(t)
	c := fastClient(t)
	repo, _ := c.Repository(f.Host + "/a/app")
	m := &Manifest{Type: types.OCIManifestSchema1, Raw: []byte(`{"schemaVersion":2}`)}
	m.Digest = digestOf(m.Raw)
	f.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	err := c.Put(context.Background(), repo.Tag("1"), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "try later")
	assert.Equal(t, restartAttempts, f.Count("PUT", "/manifests/"), "restarted as an operation, never multiplied")
}

func remoteRef(s string) (name.Reference, error) { return name.ParseReference(s, name.Insecure) }

func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// copyPair is a source registry holding a random image (a/app:1) and an
// empty target (b/app), with a client of both and the image's manifest.
type copyPair struct {
	src, dst     *faulty
	c            *Client
	srepo, drepo name.Repository
	m            *Manifest
}

func newCopyPair(t *testing.T) *copyPair {
	t.Helper()
	p := &copyPair{src: newFaulty(t), dst: newFaulty(t), c: fastClient(t)}
	pushRandom(t, p.src.Host+"/a/app:1")
	p.srepo, _ = p.c.Repository(p.src.Host + "/a/app")
	p.drepo, _ = p.c.Repository(p.dst.Host + "/b/app")
	var err error
	p.m, err = p.c.Get(context.Background(), p.srepo.Tag("1"))
	require.NoError(t, err)
	return p
}

// inTarget reports whether the target holds blob d.
func (p *copyPair) inTarget(t *testing.T, d v1.Hash) bool {
	t.Helper()
	ok, err := p.c.BlobExists(context.Background(), p.drepo, d)
	require.NoError(t, err)
	return ok
}

func layersOf(t *testing.T, m *Manifest) []v1.Descriptor {
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	require.NoError(t, err)
	return mf.Layers
}

func TestTLSSpokenToAPlainHTTPServerIsNotRetried(t *testing.T) {
	check := (&attempts{policy: Retry{Budget: time.Minute}.withDefaults(), start: time.Now(), max: 8}).check
	ctx := context.Background()
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
	f.Set(nil)
	c := fastClient(t)
	for _, app := range []string{"a", "b", "c"} {
		repo, err := c.Repository(f.Host + "/" + app + "/app")
		require.NoError(t, err)
		m, err := c.Get(context.Background(), repo.Tag("1"))
		require.NoError(t, err)
		require.NoError(t, c.CopyBlob(context.Background(), repo, repo, layersOf(t, m)[0]))
	}
	assert.Equal(t, 1, f.Count("GET", "/v2/")-f.Count("GET", "/v2/a")-f.Count("GET", "/v2/b")-f.Count("GET", "/v2/c"),
		"three repositories, read and written, one ping")
}
