package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// hostileSrv is a registry whose hook may answer in its place.
type hostileSrv = regtest.Hooked

func newHostileSrv(t *testing.T) *hostileSrv { return regtest.NewHooked(t) }

// countingTransport counts the response body bytes read through it.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func baseTransport() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }

// guardedClient is a Client over base, which New puts under Guard.
func guardedClient(t *testing.T, base http.RoundTripper, kc authn.Keychain) *Client {
	t.Helper()
	if base == nil {
		base = baseTransport()
	}
	c, err := New(Options{Jobs: 2, Insecure: []string{"127.0.0.1"}, Keychain: kc, Transport: base,
		Retry: Retry{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}})
	require.NoError(t, err)
	return c
}

// pushedImage puts a random image under host/a/app:1 and returns it with its repository.
func pushedImage(t *testing.T, c *Client, host string) (name.Repository, v1.Image, v1.Hash) {
	t.Helper()
	img := regtest.Image(t, 2, regtest.Labels("1"), "1000")
	d := regtest.Push(t, host+"/a/app:1", img)
	repo, err := c.Repository(host + "/a/app")
	require.NoError(t, err)
	return repo, img, d
}

func sha256Of(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }

func isRefusal(err error) bool { var pe *PolicyError; return errors.As(err, &pe) }

func redirectTo(w http.ResponseWriter, r *http.Request, host string) {
	http.Redirect(w, r, "http://"+host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
}

// Only blob downloads may leave the registry's host: a redirect of any
// other request to another host (another port of 127.0.0.1 here) is
// refused before anything is sent there, naming both hosts.
func TestRedirectsToAnotherHostAreRefused(t *testing.T) {
	reg, other := newHostileSrv(t), newHostileSrv(t)
	c := guardedClient(t, nil, nil)
	ctx := context.Background()
	repo, _, d := pushedImage(t, c, reg.Host)
	tag, err := c.Tag(repo, "1")
	require.NoError(t, err)
	m, err := c.Get(ctx, tag)
	require.NoError(t, err)

	cases := []struct {
		name, path string
		run        func() error
	}{
		{"manifest GET", "GET /v2/a/app/manifests/1", func() error { _, err := c.Get(ctx, tag); return err }},
		{"manifest HEAD", "HEAD /v2/a/app/manifests/1", func() error { _, err := c.Head(ctx, tag); return err }},
		{"referrers", "GET /v2/a/app/referrers/" + d.String(), func() error { _, err := c.Referrers(ctx, repo, d); return err }},
		{"tag list", "GET /v2/a/app/tags/list", func() error { _, err := c.Tags(ctx, repo); return err }},
		{"manifest PUT", "PUT /v2/a/app/manifests/2", func() error { return c.Put(ctx, repo.Tag("2"), m) }},
		{"upload POST", "POST /v2/a/app/blobs/uploads/", func() error {
			_, err := c.PutBlob(ctx, repo, types.OCIConfigJSON, []byte(`{"x":1}`))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, path, _ := strings.Cut(tc.path, " ")
			reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == method && r.URL.Path == path {
					redirectTo(w, r, other.Host)
					return true
				}
				return false
			})
			other.Set(nil)
			err := tc.run()
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("registry %s redirected %s to another host, %s: refused", reg.Host, tc.path, other.Host))
			assert.True(t, isRefusal(err), "a refusal, not retried: %v", err)
			assert.Empty(t, other.Requests(), "nothing reaches the other host")
		})
	}

	// A token endpoint that sends the client to another host is refused too
	// (the realm the registry names is reached directly, not by redirect).
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			redirectTo(w, r, other.Host)
			return true
		}
		return false
	})
	other.Set(nil)
	_, err = (&http.Client{Transport: Guard(baseTransport())}).Get("http://" + reg.Host + "/token?service=x&scope=repository:a/app:pull")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirected GET /token to another host, "+other.Host)
	assert.Empty(t, other.Requests())

	// A redirect on the registry's own host is followed.
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v2/a/app/manifests/1" {
			http.Redirect(w, r, "/v2/a/app/manifests/"+d.String(), http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	got, err := c.Get(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, d, got.Digest)
}

// A blob download may be redirected to storage on another host; the
// registry's credentials never go with it, and the content is digest-checked.
func TestBlobRedirectToStorageCarriesNoCredentials(t *testing.T) {
	reg, storage := newHostileSrv(t), newHostileSrv(t)
	dst := regtest.New(t)
	kc := hostileKeychain{host: reg.Host, user: "ci", pass: "s3cret-registry-password"}
	c := guardedClient(t, nil, kc)
	ctx := context.Background()
	repo, img, _ := pushedImage(t, c, reg.Host)
	mf, err := img.Manifest()
	require.NoError(t, err)

	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if i := strings.Index(r.URL.Path, "/blobs/sha256:"); i > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, "http://"+storage.Host+"/bucket/"+r.URL.Path[i+len("/blobs/"):]+"?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	var tamper atomic.Bool
	storage.Set(func(w http.ResponseWriter, r *http.Request) bool {
		d := strings.TrimPrefix(r.URL.Path, "/bucket/")
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawQuery = "/v2/a/app/blobs/"+d, ""
		if tamper.Load() {
			rec := httptest.NewRecorder()
			reg.Serve(rec, r2)
			_, _ = w.Write(bytes.Repeat([]byte{'x'}, rec.Body.Len()))
			return true
		}
		reg.Serve(w, r2)
		return true
	})

	cfg, err := c.FetchBlob(ctx, repo, mf.Config, 1<<20)
	require.NoError(t, err)
	assert.Len(t, cfg, int(mf.Config.Size))
	dstRepo, err := c.Repository(dst.Host + "/b/app")
	require.NoError(t, err)
	require.NoError(t, c.CopyBlob(ctx, repo, dstRepo, mf.Layers[0]))

	sawCreds := false
	for _, q := range reg.Requests() {
		sawCreds = sawCreds || strings.HasSuffix(q, " Basic "+basicOf("ci", "s3cret-registry-password"))
	}
	assert.True(t, sawCreds, "the registry itself was sent the credentials: %v", reg.Requests())
	require.NotEmpty(t, storage.Requests())
	for _, q := range storage.Requests() {
		assert.True(t, strings.HasSuffix(q, " "), "storage got no Authorization: %q", q)
	}

	// Storage that serves other bytes under the digest is refused.
	tamper.Store(true)
	err = c.CopyBlob(ctx, repo, dstRepo, mf.Layers[1])
	require.Error(t, err)
	assert.Contains(t, err.Error(), mf.Layers[1].Digest.String())
	assert.Contains(t, err.Error(), "DIGEST_INVALID", "the target refuses to commit what does not hash to the digest")
	ok, err := c.BlobExists(ctx, dstRepo, mf.Layers[1].Digest)
	require.NoError(t, err)
	assert.False(t, ok, "nothing committed for the bad content")
}

type hostileKeychain struct{ host, user, pass string }

func (k hostileKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
	}
	return authn.Anonymous, nil
}

func basicOf(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// What Go's client does with an Authorization header set on the request
// it is given: it drops it on a redirect to another host name, but keeps
// it on a redirect to another port of the same name (127.0.0.1:A to
// 127.0.0.1:B), where Guard drops it. (go-containerregistry sets its
// credentials below the client, per hop and for the registry's host only,
// so they are not copied either way: the test above.)
func TestAuthorizationAcrossRedirects(t *testing.T) {
	target := newHostileSrv(t)
	target.Set(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(http.StatusOK); return true })
	from := newHostileSrv(t)
	port := target.Host[strings.LastIndexByte(target.Host, ':'):]
	get := func(rt http.RoundTripper, to string) string {
		from.Set(func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "http://"+to+r.URL.Path, http.StatusTemporaryRedirect)
			return true
		})
		target.Set(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(http.StatusOK); return true })
		req, err := http.NewRequest(http.MethodGet, "http://"+from.Host+"/v2/a/app/blobs/sha256:"+strings.Repeat("a", 64), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer registry-token")
		resp, err := (&http.Client{Transport: rt}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		seen := target.Requests()
		require.Len(t, seen, 1)
		return strings.SplitN(seen[0], " ", 3)[2]
	}
	assert.Empty(t, get(baseTransport(), "localhost"+port), "Go drops it for another host name")
	assert.Equal(t, "Bearer registry-token", get(baseTransport(), target.Host), "Go keeps it for another port of the same name")
	assert.Empty(t, get(Guard(baseTransport()), target.Host), "Guard drops it")
}

// A redirect from https to http is refused, even for a blob.
func TestRedirectMayNotDowngradeToPlainHTTP(t *testing.T) {
	plain := newHostileSrv(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+plain.Host+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(tlsSrv.Close)
	hc := &http.Client{Transport: Guard(tlsSrv.Client().Transport)}
	_, err := hc.Get(tlsSrv.URL + "/v2/a/app/blobs/sha256:" + strings.Repeat("b", 64))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "from https to http://"+plain.Host+"/v2/a/app/blobs/")
	assert.Contains(t, err.Error(), "must not downgrade to plain HTTP")
	assert.Empty(t, plain.Requests())
}

// serveManifest answers with body under Docker-Content-Digest dcd ("" for none),
// with a Content-Length unless chunked.
