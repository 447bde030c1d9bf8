package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// hostileRegistry is an in-process registry behind a hook that may answer
// in its place: it lies about digests and sizes, sends too much, or
// redirects. It records every request with its Authorization header.
type hostileRegistry struct {
	Host  string
	inner http.Handler
	mu    sync.Mutex
	hook  func(w http.ResponseWriter, r *http.Request) bool // true: answered
	seen  []string                                          // "METHOD path Authorization"
}

func newHostileRegistry(t *testing.T) *hostileRegistry {
	s := &hostileRegistry{inner: ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)), ggcr.WithReferrersSupport(true))}
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

func (s *hostileRegistry) set(hook func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook, s.seen = hook, nil
}

func (s *hostileRegistry) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// honest serves r from the registry itself, as recorded bytes.
func (s *hostileRegistry) honest(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	return rec
}

// hostileWorld promotes from a dev repository on a hostile registry into
// an immutable test repository on an honest one.
type hostileWorld struct {
	t        *testing.T
	src      *hostileRegistry
	dst      *regtest.Registry
	cfg      *config.Config
	ledger   string
	read     atomic.Int64 // response bytes promote read from any registry
	keychain authn.Keychain

	img    v1.Image
	mf     *v1.Manifest
	raw    []byte
	digest v1.Hash // of web:1.0 in dev
	sbom   v1.Hash // an OCI 1.1 referrer of it
}

func newHostileWorld(t *testing.T) *hostileWorld {
	w := &hostileWorld{t: t, src: newHostileRegistry(t), dst: regtest.New(t), ledger: filepath.Join(t.TempDir(), "ledger.db")}
	cfg, err := config.Parse("environments.yaml", []byte(fmt.Sprintf(`version: 1
ledger: %s
environments:
  - name: dev
    repository: %s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %s/test/{app}
    tags: immutable
    gates:
      - labels: {}
      - nonroot: {}
`, w.ledger, w.src.Host, w.dst.Host)))
	require.NoError(t, err)
	w.cfg = cfg
	w.img = regtest.Image(t, 3, regtest.Labels("1.0"), "1000")
	w.digest = regtest.Push(t, w.src.Host+"/dev/web:1.0", w.img)
	w.mf, err = w.img.Manifest()
	require.NoError(t, err)
	w.raw, err = w.img.RawManifest()
	require.NoError(t, err)
	w.sbom = regtest.Referrer(t, w.src.Host+"/dev/web", v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: w.digest, Size: int64(len(w.raw))}, "application/spdx+json")
	return w
}

// engine builds the engine as the CLI does (registry.New puts
// registry.Guard on the transport), over a base transport that counts what
// it reads.
func (w *hostileWorld) engine() *Engine {
	w.t.Helper()
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	w.t.Cleanup(func() { led.Close() })
	base := &readCounter{next: http.DefaultTransport.(*http.Transport).Clone(), n: &w.read}
	reg, err := registry.New(registry.Options{Insecure: []string{"127.0.0.1"}, Keychain: w.keychain, Transport: base,
		Retry: registry.Retry{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}})
	require.NoError(w.t, err)
	e, err := New(w.cfg, reg, led, WithActor(ledger.Actor{Identity: "test"}, nil))
	require.NoError(w.t, err)
	return e
}

func (w *hostileWorld) promote() (*Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return w.engine().Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
}

// blobInTarget reports whether the target repository holds blob d.
func (w *hostileWorld) blobInTarget(d v1.Hash) bool {
	w.t.Helper()
	ref, err := name.NewDigest(w.dst.Host+"/test/web@"+d.String(), name.Insecure)
	require.NoError(w.t, err)
	l, err := remote.Layer(ref)
	require.NoError(w.t, err)
	_, err = l.Size()
	return err == nil
}

func (w *hostileWorld) tagsInTarget() []string {
	repo, err := name.NewRepository(w.dst.Host+"/test/web", name.Insecure)
	require.NoError(w.t, err)
	tags, _ := remote.List(repo)
	return tags
}

func (w *hostileWorld) records() []ledger.Record {
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	defer led.Close()
	recs, err := led.Records(context.Background(), ledger.Query{})
	require.NoError(w.t, err)
	return recs
}

// repushLying replaces dev/web:1.0 with its manifest changed by edit: the
// registry now holds (and hashes correctly) a manifest that lies.
func (w *hostileWorld) repushLying(edit func(m map[string]any)) {
	var m map[string]any
	require.NoError(w.t, json.Unmarshal(w.raw, &m))
	edit(m)
	b, err := json.Marshal(m)
	require.NoError(w.t, err)
	ref, err := name.ParseReference(w.src.Host + "/dev/web:1.0")
	require.NoError(w.t, err)
	require.NoError(w.t, remote.Put(ref, lyingManifest{b, types.DockerManifestSchema2}))
}

func (w *hostileWorld) layerSize(delta int64) func(m map[string]any) {
	return func(m map[string]any) {
		l := m["layers"].([]any)[0].(map[string]any)
		l["size"] = l["size"].(float64) + float64(delta)
	}
}

type lyingManifest struct {
	b  []byte
	mt types.MediaType
}

func (m lyingManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m lyingManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

type readCounter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c *readCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countedBody{ReadCloser: resp.Body, n: c.n}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// answerOn answers requests of method for path with f, and leaves the rest
// to the registry.
func answerOn(method, path string, f func(w http.ResponseWriter, r *http.Request)) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != path {
			return false
		}
		f(w, r)
		return true
	}
}

func resend(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func fakeReferrers(n int, pad int) []byte {
	descs := make([]string, n)
	for i := range descs {
		descs[i] = fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":512,"artifactType":"application/spdx+json","annotations":{"p":"%s"}}`, i, strings.Repeat("p", pad))
	}
	return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(descs, ",") + `]}`)
}

// A hostile source registry: each lie is refused with an error that names
// it, the exit class is a registry error (not a gate rejection or a
// conflict), nothing reaches the target (no manifest, no tag, no blob for
// the bad content; nothing at all when the lie is found before the copy)
// and the ledger gets no record. Run again against the registry once it is
// honest, the same promotion completes.
func TestHostileSourceRegistry(t *testing.T) {
	type hostileCase struct {
		name string
		// lie sets the registry lying and returns what the error must say
		// and the blob that must not reach the target, if any.
		lie func(w *hostileWorld) (want []string, bad *v1.Hash)
		// duringCopy: the lie shows while blobs stream, after other blobs
		// may have been committed (content-addressed, harmless).
		duringCopy bool
		// heal makes the registry honest again (default: no hook).
		heal  func(w *hostileWorld)
		check func(t *testing.T, w *hostileWorld)
	}
	cases := []hostileCase{{
		name: "manifest bytes differ from its Docker-Content-Digest",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.honest(r)
				resend(rw, rec, append(rec.Body.Bytes(), '\n'))
			}))
			return []string{fmt.Sprintf("manifest %s/dev/web:1.0: registry %s sent bytes that hash to sha256:", w.src.Host, w.src.Host),
				"not to " + w.digest.String() + ", the Docker-Content-Digest it names them by: refused"}, nil
		},
	}, {
		name: "manifest fetched by digest has other bytes",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/manifests/"+w.sbom.String(), func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.DockerManifestSchema2))
				rw.Header().Set("Docker-Content-Digest", w.digest.String())
				_, _ = rw.Write(w.raw)
			}))
			return []string{"referrer " + w.sbom.String() + " of " + w.digest.String(), "does not match requested digest"}, nil
		},
	}, {
		name: "config blob content does not match its digest",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/blobs/"+w.mf.Config.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				_, _ = rw.Write(bytes.Repeat([]byte("x"), int(w.mf.Config.Size)))
			}))
			return []string{"blob " + w.mf.Config.Digest.String(), "error verifying sha256 checksum"}, &w.mf.Config.Digest
		},
	}, {
		name: "layer blob content does not match its digest",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[1]
			w.src.set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				_, _ = rw.Write(bytes.Repeat([]byte("x"), int(l.Size)))
			}))
			return []string{fmt.Sprintf("copying blob %s from %s/dev/web to %s/test/web", l.Digest, w.src.Host, w.dst.Host),
				"copying blob " + l.Digest.String(), "DIGEST_INVALID"}, &l.Digest // the target checks the digest of a streamed blob
		},
		duringCopy: true,
	}, {
		name: "descriptor size smaller than the blob",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.repushLying(w.layerSize(-1))
			l := w.mf.Layers[0]
			return []string{fmt.Sprintf("blob %s: the source sent more than the %d bytes its descriptor declares: refused", l.Digest, l.Size-1)}, &l.Digest
		},
		duringCopy: true,
		heal:       func(w *hostileWorld) { regtest.Push(w.t, w.src.Host+"/dev/web:1.0", w.img) },
	}, {
		name: "descriptor size larger than the blob",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.repushLying(w.layerSize(+1))
			l := w.mf.Layers[0]
			return []string{fmt.Sprintf("blob %s: the source sent %d bytes, not the %d its descriptor declares: refused", l.Digest, l.Size, l.Size+1)}, &l.Digest
		},
		duringCopy: true,
		heal:       func(w *hostileWorld) { regtest.Push(w.t, w.src.Host+"/dev/web:1.0", w.img) },
	}, {
		name: "Content-Length shorter than the blob",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[2]
			w.src.set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.honest(r)
				rw.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()-100))
				_, _ = rw.Write(rec.Body.Bytes()[:rec.Body.Len()-100])
			}))
			return []string{fmt.Sprintf("blob %s: the source sent %d bytes, not the %d its descriptor declares", l.Digest, l.Size-100, l.Size)}, &l.Digest
		},
		duringCopy: true,
	}, {
		name: "Content-Length longer than the blob",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[2]
			w.src.set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.honest(r)
				rw.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()+100))
				_, _ = rw.Write(rec.Body.Bytes())
			}))
			return []string{fmt.Sprintf("registry %s sent %d of the %d bytes its Content-Length declared: unexpected EOF", w.src.Host, l.Size, l.Size+100)}, &l.Digest
		},
		duringCopy: true,
	}, {
		name: "manifest over 4 MiB by its Content-Length",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.OCIManifestSchema1))
				rw.Header().Set("Content-Length", strconv.Itoa(5<<20))
				chunk := bytes.Repeat([]byte(" "), 64<<10)
				for i := 0; i < 80; i++ {
					if _, err := rw.Write(chunk); err != nil {
						return
					}
				}
			}))
			return []string{fmt.Sprintf("resolving web:1.0 in dev: fetching manifest %s/dev/web:1.0: manifest %s/dev/web:1.0 is 5242880 bytes (Content-Length), more than the 4 MiB (4194304 bytes) that distribution and ECR accept for a manifest: refused unread", w.src.Host, w.src.Host)}, nil
		},
	}, {
		name: "manifest over 4 MiB streamed without end",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.OCIManifestSchema1))
				chunk := bytes.Repeat([]byte(" "), 64<<10)
				for i := 0; i < 1024; i++ { // 64 MiB if nobody stops reading
					if _, err := rw.Write(chunk); err != nil {
						return
					}
					rw.(http.Flusher).Flush()
				}
			}))
			return []string{fmt.Sprintf("manifest %s/dev/web:1.0 is larger than the 4 MiB (4194304 bytes) that distribution and ECR accept for a manifest: refused after reading 4194304 bytes", w.src.Host)}, nil
		},
		check: func(t *testing.T, w *hostileWorld) {
			assert.Less(t, w.read.Load(), int64(4<<20+256<<10), "about 4 MiB read, no more")
		},
	}, {
		name: "referrers list without end",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			var pages atomic.Int32
			path := "/v2/dev/web/referrers/" + w.digest.String()
			w.src.set(answerOn("GET", path, func(rw http.ResponseWriter, r *http.Request) {
				n := pages.Add(1)
				rec := w.src.honest(r)
				rw.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, path, n+1))
				resend(rw, rec, rec.Body.Bytes())
			}))
			return []string{fmt.Sprintf("referrers index of %s/dev/web@%s: registry %s still links a next page after 10 pages: refused, promote follows at most 10 pages of referrers", w.src.Host, w.digest, w.src.Host)}, nil
		},
		check: func(t *testing.T, w *hostileWorld) {
			n := 0
			for _, q := range w.src.requests() {
				if strings.HasPrefix(q, "GET /v2/dev/web/referrers/"+w.digest.String()) {
					n++
				}
			}
			assert.Equal(t, 10, n, "ten pages read, then refused")
		},
	}, {
		name: "referrers list of 5000 descriptors",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.set(answerOn("GET", "/v2/dev/web/referrers/"+w.digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.OCIImageIndex))
				_, _ = rw.Write(fakeReferrers(5000, 0))
			}))
			return []string{fmt.Sprintf("referrers index of %s/dev/web@%s lists 5000 referrers: refused, promote accepts at most 4096 referrers of one manifest", w.src.Host, w.digest)}, nil
		},
	}, {
		name: "referrers index over 4 MiB",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			body := fakeReferrers(1000, 5000)
			w.src.set(answerOn("GET", "/v2/dev/web/referrers/"+w.digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.OCIImageIndex))
				rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
				_, _ = rw.Write(body)
			}))
			return []string{fmt.Sprintf("referrers index of %s/dev/web@%s is %d bytes (Content-Length), more than the 4 MiB", w.src.Host, w.digest, len(body))}, nil
		},
	}, {
		name: "manifest redirected to another host",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			mirror := newHostileRegistry(w.t)
			w.src.set(func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				http.Redirect(rw, r, "http://"+mirror.Host+r.URL.Path, http.StatusTemporaryRedirect)
				return true
			})
			w.t.Cleanup(func() { assert.Empty(w.t, mirror.requests(), "nothing was sent to the other host") })
			return []string{fmt.Sprintf("registry %s redirected GET /v2/dev/web/manifests/1.0 to another host, %s: refused, only blob downloads may leave the registry's host", w.src.Host, mirror.Host)}, nil
		},
	}, {
		name: "referrers redirected to another host",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			mirror := newHostileRegistry(w.t)
			w.src.set(func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/referrers/") {
					return false
				}
				http.Redirect(rw, r, "http://"+mirror.Host+r.URL.Path, http.StatusFound)
				return true
			})
			w.t.Cleanup(func() { assert.Empty(w.t, mirror.requests(), "nothing was sent to the other host") })
			return []string{fmt.Sprintf("registry %s redirected GET /v2/dev/web/referrers/%s to another host, %s: refused", w.src.Host, w.digest, mirror.Host)}, nil
		},
	}, {
		name: "blob redirected to storage that serves other bytes",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[0]
			storage := newHostileRegistry(w.t)
			storage.set(func(rw http.ResponseWriter, r *http.Request) bool {
				_, _ = rw.Write(bytes.Repeat([]byte("x"), int(l.Size)))
				return true
			})
			w.src.set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				http.Redirect(rw, r, "http://"+storage.Host+"/bucket/"+l.Digest.Hex, http.StatusTemporaryRedirect)
			}))
			return []string{"copying blob " + l.Digest.String(), "DIGEST_INVALID"}, &l.Digest
		},
		duringCopy: true,
	}}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newHostileWorld(t)
			want, bad := tc.lie(w)
			w.read.Store(0)
			_, err := w.promote()
			require.Error(t, err)
			for _, s := range want {
				assert.Contains(t, err.Error(), s)
			}
			t.Logf("promote: %v", err)
			for _, sentinel := range []error{errs.ErrGateRejected, errs.ErrConflict, errs.ErrUsage, errs.ErrConfig} {
				assert.NotErrorIs(t, err, sentinel, "a registry error (exit 1)")
			}
			writes := regtest.Writes(w.dst.Requests())
			if !tc.duringCopy {
				assert.Empty(t, writes, "nothing written to the target")
			}
			for _, q := range writes {
				assert.NotContains(t, q, "/manifests/", "no manifest or tag written to the target")
			}
			assert.Empty(t, w.tagsInTarget(), "no tag in the target")
			if bad != nil {
				assert.False(t, w.blobInTarget(*bad), "the bad blob is not in the target")
			}
			assert.Empty(t, w.records(), "no ledger record")
			if tc.check != nil {
				tc.check(t, w)
			}

			w.src.set(nil)
			if tc.heal != nil {
				tc.heal(w)
			}
			res, err := w.promote()
			require.NoError(t, err, "the honest registry is promoted from")
			assert.Equal(t, w.digest.String(), res.Digest)
			assert.Equal(t, []string{"1.0"}, w.tagsInTarget())
			recs := w.records()
			require.Len(t, recs, 1)
			assert.Equal(t, ledger.KindPromotion, recs[0].Kind)
		})
	}
}

// A registry that sends blob downloads to storage on another host (as ECR
// sends them to S3) is followed; the storage never sees the registry's
// credentials, and the promotion completes.
func TestHostileBlobRedirectToStorageIsFollowedWithoutCredentials(t *testing.T) {
	w := newHostileWorld(t)
	w.keychain = srcKeychain{host: w.src.Host}
	storage := newHostileRegistry(t)
	storage.set(func(rw http.ResponseWriter, r *http.Request) bool {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawQuery = "/v2/dev/web/blobs/sha256:"+strings.TrimPrefix(r.URL.Path, "/bucket/"), ""
		w.src.inner.ServeHTTP(rw, r2)
		return true
	})
	w.src.set(func(rw http.ResponseWriter, r *http.Request) bool {
		i := strings.Index(r.URL.Path, "/blobs/sha256:")
		if i < 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			return false
		}
		http.Redirect(rw, r, "http://"+storage.Host+"/bucket/"+r.URL.Path[i+len("/blobs/sha256:"):]+"?X-Amz-Signature=s", http.StatusTemporaryRedirect)
		return true
	})
	res, err := w.promote()
	require.NoError(t, err)
	assert.Equal(t, w.digest.String(), res.Digest)
	assert.Equal(t, 6, res.Copy.BlobsCopied, "config and three layers, and the SBOM's two blobs, through storage")

	sent := false
	for _, q := range w.src.requests() {
		sent = sent || strings.HasSuffix(q, " Basic "+srcBasic)
	}
	assert.True(t, sent, "the registry was sent its credentials")
	require.NotEmpty(t, storage.requests())
	for _, q := range storage.requests() {
		assert.True(t, strings.HasSuffix(q, " "), "no Authorization sent to storage: %q", q)
	}
}

// srcBasic is base64("ci:registry-secret").
const srcBasic = "Y2k6cmVnaXN0cnktc2VjcmV0"

type srcKeychain struct{ host string }

func (k srcKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return authn.FromConfig(authn.AuthConfig{Username: "ci", Password: "registry-secret"}), nil
	}
	return authn.Anonymous, nil
}
