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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// hostileSrv is an in-process registry behind a hook that may answer in
// its place; it records the Authorization header of every request.
type hostileSrv struct {
	Host  string
	inner http.Handler
	mu    sync.Mutex
	hook  func(w http.ResponseWriter, r *http.Request) bool // true: answered
	seen  []string                                          // "METHOD path Authorization"
}

func newHostileSrv(t *testing.T) *hostileSrv {
	s := &hostileSrv{inner: ggcr.New(ggcr.Logger(discardLog()), ggcr.WithReferrersSupport(true))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		s.inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.Host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

func (s *hostileSrv) set(hook func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook, s.seen = hook, nil
}

func (s *hostileSrv) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

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
			reg.set(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == method && r.URL.Path == path {
					redirectTo(w, r, other.Host)
					return true
				}
				return false
			})
			other.set(nil)
			err := tc.run()
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("registry %s redirected %s to another host, %s: refused", reg.Host, tc.path, other.Host))
			assert.True(t, isRefusal(err), "a refusal, not retried: %v", err)
			assert.Empty(t, other.requests(), "nothing reaches the other host")
		})
	}

	// A token endpoint that sends the client to another host is refused too
	// (the realm the registry names is reached directly, not by redirect).
	reg.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			redirectTo(w, r, other.Host)
			return true
		}
		return false
	})
	other.set(nil)
	_, err = (&http.Client{Transport: Guard(baseTransport())}).Get("http://" + reg.Host + "/token?service=x&scope=repository:a/app:pull")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redirected GET /token to another host, "+other.Host)
	assert.Empty(t, other.requests())

	// A redirect on the registry's own host is followed.
	reg.set(func(w http.ResponseWriter, r *http.Request) bool {
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

	reg.set(func(w http.ResponseWriter, r *http.Request) bool {
		if i := strings.Index(r.URL.Path, "/blobs/sha256:"); i > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, "http://"+storage.Host+"/bucket/"+r.URL.Path[i+len("/blobs/"):]+"?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	var tamper atomic.Bool
	storage.set(func(w http.ResponseWriter, r *http.Request) bool {
		d := strings.TrimPrefix(r.URL.Path, "/bucket/")
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawQuery = "/v2/a/app/blobs/"+d, ""
		if tamper.Load() {
			rec := httptest.NewRecorder()
			reg.inner.ServeHTTP(rec, r2)
			_, _ = w.Write(bytes.Repeat([]byte{'x'}, rec.Body.Len()))
			return true
		}
		reg.inner.ServeHTTP(w, r2)
		return true
	})

	cfg, err := c.FetchBlob(ctx, repo, mf.Config, 1<<20)
	require.NoError(t, err)
	assert.Len(t, cfg, int(mf.Config.Size))
	dstRepo, err := c.Repository(dst.Host + "/b/app")
	require.NoError(t, err)
	require.NoError(t, c.CopyBlob(ctx, repo, dstRepo, mf.Layers[0]))

	sawCreds := false
	for _, q := range reg.requests() {
		sawCreds = sawCreds || strings.HasSuffix(q, " Basic "+basicOf("ci", "s3cret-registry-password"))
	}
	assert.True(t, sawCreds, "the registry itself was sent the credentials: %v", reg.requests())
	require.NotEmpty(t, storage.requests())
	for _, q := range storage.requests() {
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
	target.set(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(http.StatusOK); return true })
	from := newHostileSrv(t)
	port := target.Host[strings.LastIndexByte(target.Host, ':'):]
	get := func(rt http.RoundTripper, to string) string {
		from.set(func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "http://"+to+r.URL.Path, http.StatusTemporaryRedirect)
			return true
		})
		target.set(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(http.StatusOK); return true })
		req, err := http.NewRequest(http.MethodGet, "http://"+from.Host+"/v2/a/app/blobs/sha256:"+strings.Repeat("a", 64), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer registry-token")
		resp, err := (&http.Client{Transport: rt}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		seen := target.requests()
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
	assert.Empty(t, plain.requests())
}

// serveManifest answers with body under Docker-Content-Digest dcd ("" for none),
// with a Content-Length unless chunked.
func serveManifest(w http.ResponseWriter, mt types.MediaType, dcd string, body []byte) {
	w.Header().Set("Content-Type", string(mt))
	if dcd != "" {
		w.Header().Set("Docker-Content-Digest", dcd)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// manifestOfSize is a valid OCI manifest of exactly n bytes.
func manifestOfSize(t *testing.T, n int) []byte {
	head := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"pad":"`
	tail := `"}}`
	require.Greater(t, n, len(head)+len(tail))
	return []byte(head + strings.Repeat("p", n-len(head)-len(tail)) + tail)
}

// Every manifest read is bounded by 4 MiB, the limit distribution and ECR
// apply, without reading more than that into memory.
func TestManifestsOverFourMiBAreRefused(t *testing.T) {
	reg := newHostileSrv(t)
	count := &countingTransport{next: baseTransport()}
	c := guardedClient(t, count, nil)
	ctx := context.Background()
	repo, err := c.Repository(reg.Host + "/a/app")
	require.NoError(t, err)
	atLimit, overLimit := manifestOfSize(t, maxManifestBytes), manifestOfSize(t, maxManifestBytes+1)
	reg.set(func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/v2/a/app/manifests/at-limit":
			serveManifest(w, types.OCIManifestSchema1, sha256Of(atLimit), atLimit)
		case "/v2/a/app/manifests/declared":
			serveManifest(w, types.OCIManifestSchema1, sha256Of(overLimit), overLimit)
		case "/v2/a/app/manifests/chunked", "/v2/a/app/referrers/sha256:" + strings.Repeat("c", 64):
			// No Content-Length, and no end: 64 MiB if nobody stops reading.
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("d", 64))
			chunk := bytes.Repeat([]byte(" "), 32<<10)
			for i := 0; i < 2048; i++ {
				if _, err := w.Write(chunk); err != nil {
					return true
				}
				w.(http.Flusher).Flush()
			}
		default:
			return false
		}
		return true
	})

	m, err := c.Get(ctx, repo.Tag("at-limit"))
	require.NoError(t, err, "exactly 4 MiB is accepted")
	assert.Len(t, m.Raw, maxManifestBytes)

	count.n.Store(0)
	_, err = c.Get(ctx, repo.Tag("declared"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "manifest "+reg.Host+"/a/app:declared is 4194305 bytes (Content-Length), more than the 4 MiB (4194304 bytes) that distribution and ECR accept for a manifest: refused unread")
	assert.Less(t, count.n.Load(), int64(64<<10), "the body was not read")
	assert.True(t, isRefusal(err))

	count.n.Store(0)
	_, err = c.Get(ctx, repo.Tag("chunked"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "manifest "+reg.Host+"/a/app:chunked is larger than the 4 MiB (4194304 bytes) that distribution and ECR accept for a manifest: refused after reading 4194304 bytes")
	assert.LessOrEqual(t, count.n.Load(), int64(maxManifestBytes+64<<10), "no more than 4 MiB read")

	count.n.Store(0)
	_, err = c.Referrers(ctx, repo, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("c", 64)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "referrers index of "+reg.Host+"/a/app@sha256:"+strings.Repeat("c", 64)+" is larger than the 4 MiB")
	assert.LessOrEqual(t, count.n.Load(), int64(maxManifestBytes+64<<10))
}

// Manifest bytes must hash to the digest the registry names them by: its
// Docker-Content-Digest header for a tag, the reference for a digest.
func TestManifestBytesMustMatchTheirDigest(t *testing.T) {
	reg := newHostileSrv(t)
	c := guardedClient(t, nil, nil)
	ctx := context.Background()
	repo, img, d := pushedImage(t, c, reg.Host)
	raw, err := img.RawManifest()
	require.NoError(t, err)
	other := regtest.Image(t, 1, regtest.Labels("2"), "1000")
	otherRaw, err := other.RawManifest()
	require.NoError(t, err)

	answer := func(dcd string, body []byte) {
		reg.set(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
				serveManifest(w, types.DockerManifestSchema2, dcd, body)
				return true
			}
			return false
		})
	}

	// By tag: the bytes differ (one trailing newline) from what the header names.
	body := append(append([]byte{}, raw...), '\n')
	answer(d.String(), body)
	_, err = c.Get(ctx, repo.Tag("1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("manifest %s/a/app:1: registry %s sent bytes that hash to %s, not to %s, the Docker-Content-Digest it names them by: refused",
		reg.Host, reg.Host, sha256Of(body), d))

	// By digest: other bytes, with a header that tells the truth about them.
	answer(sha256Of(otherRaw), otherRaw)
	_, err = c.Get(ctx, repo.Digest(d.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not match requested digest")
	assert.Contains(t, err.Error(), d.String())

	// Without the header a tag's digest is what its bytes hash to.
	answer("", raw)
	m, err := c.Get(ctx, repo.Tag("1"))
	require.NoError(t, err)
	assert.Equal(t, d, m.Digest)
}

func referrersPage(from, n int) []byte {
	var descs []string
	for i := from; i < from+n; i++ {
		descs = append(descs, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":512,"artifactType":"application/spdx+json"}`, i))
	}
	return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(descs, ",") + `]}`)
}

// A paginated referrers list is followed to its end; an endless one, one
// with too many descriptors, or one that continues on another host is refused.
func TestReferrersPagesAreFollowedWithinLimits(t *testing.T) {
	reg, other := newHostileSrv(t), newHostileSrv(t)
	c := guardedClient(t, nil, nil)
	ctx := context.Background()
	repo, err := c.Repository(reg.Host + "/a/app")
	require.NoError(t, err)
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("e", 64)}
	path := "/v2/a/app/referrers/" + d.String()

	var served atomic.Int32
	run := func(pages, perPage int, nextHost string) ([]v1.Descriptor, error) {
		reg.set(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != path {
				return false
			}
			served.Add(1)
			p, _ := strconv.Atoi(r.URL.Query().Get("page"))
			if pages < 0 || p+1 < pages {
				w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d>; rel="next"`, nextHost, path, p+1))
			}
			serveManifest(w, types.OCIImageIndex, "", referrersPage(p*perPage, perPage))
			return true
		})
		served.Store(0)
		return c.Referrers(ctx, repo, d)
	}

	descs, err := run(3, 5, "")
	require.NoError(t, err)
	require.Len(t, descs, 15, "every page")
	assert.Equal(t, fmt.Sprintf("sha256:%064x", 14), descs[14].Digest.String())
	assert.Equal(t, "application/spdx+json", descs[14].ArtifactType)

	_, err = run(-1, 1, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("referrers index of %s/a/app@%s: registry %s still links a next page after 10 pages: refused, promote follows at most 10 pages of referrers (10 descriptors so far)", reg.Host, d, reg.Host))
	assert.EqualValues(t, 10, served.Load())
	assert.True(t, isRefusal(err))

	_, err = run(5, 1000, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lists more than 4096 referrers: refused, promote accepts at most 4096 referrers of one manifest")
	assert.EqualValues(t, 5, served.Load())

	_, err = run(1, 5000, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("referrers index of %s@%s lists 5000 referrers: refused, promote accepts at most 4096", repo.Name(), d))

	_, err = run(2, 1, "http://"+other.Host)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("registry %s links its next page on another host, %s: refused", reg.Host, other.Host))
	assert.Empty(t, other.requests())

	// Pages of 3000 descriptors (about 400 KB each) pass the 4096 cap only
	// below it, so the 4 MiB byte budget across pages is tested with fat ones.
	reg.set(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path {
			return false
		}
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, path, p+1))
		pad := strings.Repeat("z", 1<<20)
		serveManifest(w, types.OCIImageIndex, "", []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:`+strings.Repeat("f", 64)+`","size":1,"annotations":{"pad":"`+pad+`"}}]}`))
		return true
	})
	_, err = c.Referrers(ctx, repo, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "its pages add up to more than the 4 MiB (4194304 bytes) a referrers index may hold: refused at page 4")
}

// A blob whose bytes or size differ from its descriptor is refused, and
// nothing is committed to the target for it.
func TestBlobsThatLieAreRefused(t *testing.T) {
	reg := newHostileSrv(t)
	dst := regtest.New(t)
	c := guardedClient(t, nil, nil)
	ctx := context.Background()
	repo, img, _ := pushedImage(t, c, reg.Host)
	mf, err := img.Manifest()
	require.NoError(t, err)
	dstRepo, err := c.Repository(dst.Host + "/b/app")
	require.NoError(t, err)
	layer := mf.Layers[0]
	lie := func(body func(real []byte, w http.ResponseWriter)) {
		reg.set(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+layer.Digest.String()) || body == nil {
				return false
			}
			rec := httptest.NewRecorder()
			reg.inner.ServeHTTP(rec, r)
			body(rec.Body.Bytes(), w)
			return true
		})
	}
	absent := func() {
		t.Helper()
		ok, err := c.BlobExists(ctx, dstRepo, layer.Digest)
		require.NoError(t, err)
		assert.False(t, ok, "nothing committed to the target")
	}

	bigger, smaller := layer, layer
	bigger.Size, smaller.Size = layer.Size+1, layer.Size-1
	err = c.CopyBlob(ctx, repo, dstRepo, smaller)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("blob %s: the source sent more than the %d bytes its descriptor declares: refused", layer.Digest, smaller.Size))
	assert.True(t, isRefusal(err))
	absent()
	err = c.CopyBlob(ctx, repo, dstRepo, bigger)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("blob %s: the source sent %d bytes, not the %d its descriptor declares: refused", layer.Digest, layer.Size, bigger.Size))
	absent()
	_, err = c.FetchBlob(ctx, repo, v1.Descriptor{Digest: mf.Config.Digest, Size: mf.Config.Size + 3}, 1<<20)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("is %d bytes, not the %d its descriptor declares: refused", mf.Config.Size, mf.Config.Size+3))

	// Other bytes of the right length.
	lie(func(real []byte, w http.ResponseWriter) { _, _ = w.Write(bytes.Repeat([]byte{'x'}, len(real))) })
	err = c.CopyBlob(ctx, repo, dstRepo, layer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("copying blob %s", layer.Digest))
	assert.Contains(t, err.Error(), "DIGEST_INVALID", "the target refuses to commit what does not hash to the digest")
	assert.False(t, restartable(err), "a content lie is not worth a new upload session")
	absent()

	// A Content-Length shorter than the blob: the bytes read stop short.
	lie(func(real []byte, w http.ResponseWriter) {
		w.Header().Set("Content-Length", strconv.Itoa(len(real)-10))
		_, _ = w.Write(real[:len(real)-10])
	})
	err = c.CopyBlob(ctx, repo, dstRepo, layer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("blob %s: the source sent %d bytes, not the %d its descriptor declares", layer.Digest, layer.Size-10, layer.Size))
	absent()

	// A Content-Length longer than the blob: the connection ends early, as
	// when it breaks; the upload restarts, then gives up saying so.
	lie(func(real []byte, w http.ResponseWriter) {
		w.Header().Set("Content-Length", strconv.Itoa(len(real)+10))
		_, _ = w.Write(real)
	})
	err = c.CopyBlob(ctx, repo, dstRepo, layer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("blob %s/a/app@%s: registry %s sent %d of the %d bytes its Content-Length declared: unexpected EOF", reg.Host, layer.Digest, reg.Host, layer.Size, layer.Size+10))
	absent()

	lie(nil)
	require.NoError(t, c.CopyBlob(ctx, repo, dstRepo, layer), "the honest registry is copied from")
}

func TestNextLinkParsing(t *testing.T) {
	base, err := url.Parse("https://r.example/v2/a/referrers/sha256:x")
	require.NoError(t, err)
	for _, tc := range []struct{ link, want string }{
		{`</v2/a/referrers/sha256:x?n=2&last=y>; rel="next"`, "https://r.example/v2/a/referrers/sha256:x?n=2&last=y"},
		{`<https://r.example/p2>; rel=next`, "https://r.example/p2"},
		{`<https://r.example/p0>; rel="prev", <https://r.example/p2>; REL="first next"`, "https://r.example/p2"},
		{`<https://r.example/p0>; rel="prev"`, ""},
		{``, ""},
	} {
		resp := &http.Response{Header: http.Header{}}
		if tc.link != "" {
			resp.Header.Set("Link", tc.link)
		}
		u, err := nextLink(resp, base)
		require.NoError(t, err)
		got := ""
		if u != nil {
			got = u.String()
		}
		assert.Equal(t, tc.want, got, tc.link)
	}
}

// The upload gets a blob's last bytes only once the source has ended
// where the descriptor says: a source that breaks, runs on or fails its
// digest check there leaves the target with an incomplete body, so the
// target cannot answer (and commit) it first.
func TestSizedBlobWithholdsTheLastBytesUntilTheEnd(t *testing.T) {
	data := bytes.Repeat([]byte("a"), 100)
	desc := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}, Size: 100}
	read := func(tail io.Reader) ([]byte, error) {
		return io.ReadAll(&sizedBlob{rc: io.NopCloser(io.MultiReader(bytes.NewReader(data), tail)), desc: desc})
	}
	got, err := read(strings.NewReader(""))
	require.NoError(t, err)
	assert.Equal(t, data, got)

	got, err = read(iotestErr{io.ErrUnexpectedEOF})
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Empty(t, got, "the last bytes are withheld")

	got, err = read(strings.NewReader("more"))
	assert.ErrorContains(t, err, "more than the 100 bytes its descriptor declares")
	assert.True(t, isRefusal(err))
	assert.Empty(t, got)

	got, err = read(iotestErr{errors.New("error verifying sha256 checksum")})
	assert.ErrorContains(t, err, "checksum")
	assert.True(t, isRefusal(err))
	assert.Empty(t, got)
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }
