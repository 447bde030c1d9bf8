package promote

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

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
			w.src.Set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.Honest(r)
				resend(rw, rec, append(rec.Body.Bytes(), '\n'))
			}))
			return []string{fmt.Sprintf("manifest %s/dev/web:1.0: registry %s sent bytes that hash to sha256:", w.src.Host, w.src.Host),
				"not to " + w.digest.String() + ", the Docker-Content-Digest it names them by: refused"}, nil
		},
	}, {
		name: "manifest fetched by digest has other bytes",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.Set(answerOn("GET", "/v2/dev/web/manifests/"+w.sbom.String(), func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.DockerManifestSchema2))
				rw.Header().Set("Docker-Content-Digest", w.digest.String())
				_, _ = rw.Write(w.raw)
			}))
			return []string{"referrer " + w.sbom.String() + " of " + w.digest.String(), "does not match requested digest"}, nil
		},
	}, {
		name: "config blob content does not match its digest",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.Set(answerOn("GET", "/v2/dev/web/blobs/"+w.mf.Config.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				_, _ = rw.Write(bytes.Repeat([]byte("x"), int(w.mf.Config.Size)))
			}))
			return []string{"blob " + w.mf.Config.Digest.String(), "error verifying sha256 checksum"}, &w.mf.Config.Digest
		},
	}, {
		name: "layer blob content does not match its digest",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[1]
			w.src.Set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
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
			w.src.Set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.Honest(r)
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
			w.src.Set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rec := w.src.Honest(r)
				rw.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()+100))
				_, _ = rw.Write(rec.Body.Bytes())
			}))
			return []string{fmt.Sprintf("registry %s sent %d of the %d bytes its Content-Length declared: unexpected EOF", w.src.Host, l.Size, l.Size+100)}, &l.Digest
		},
		duringCopy: true,
	}, {
		name: "manifest over 4 MiB by its Content-Length",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.Set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
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
			w.src.Set(answerOn("GET", "/v2/dev/web/manifests/1.0", func(rw http.ResponseWriter, r *http.Request) {
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
			w.src.Set(answerOn("GET", path, func(rw http.ResponseWriter, r *http.Request) {
				n := pages.Add(1)
				rec := w.src.Honest(r)
				rw.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, path, n+1))
				resend(rw, rec, rec.Body.Bytes())
			}))
			return []string{fmt.Sprintf("referrers index of %s/dev/web@%s: registry %s still links a next page after 10 pages: refused, promote follows at most 10 pages of referrers", w.src.Host, w.digest, w.src.Host)}, nil
		},
		check: func(t *testing.T, w *hostileWorld) {
			n := 0
			for _, q := range w.src.Requests() {
				if strings.HasPrefix(q, "GET /v2/dev/web/referrers/"+w.digest.String()) {
					n++
				}
			}
			assert.Equal(t, 10, n, "ten pages read, then refused")
		},
	}, {
		name: "referrers list of 5000 descriptors",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			w.src.Set(answerOn("GET", "/v2/dev/web/referrers/"+w.digest.String(), func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", string(types.OCIImageIndex))
				_, _ = rw.Write(fakeReferrers(5000, 0))
			}))
			return []string{fmt.Sprintf("referrers index of %s/dev/web@%s lists 5000 referrers: refused, promote accepts at most 4096 referrers of one manifest", w.src.Host, w.digest)}, nil
		},
	}, {
		name: "referrers index over 4 MiB",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			body := fakeReferrers(1000, 5000)
			w.src.Set(answerOn("GET", "/v2/dev/web/referrers/"+w.digest.String(), func(rw http.ResponseWriter, r *http.Request) {
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
			w.src.Set(func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				http.Redirect(rw, r, "http://"+mirror.Host+r.URL.Path, http.StatusTemporaryRedirect)
				return true
			})
			w.t.Cleanup(func() { assert.Empty(w.t, mirror.Requests(), "nothing was sent to the other host") })
			return []string{fmt.Sprintf("registry %s redirected GET /v2/dev/web/manifests/1.0 to another host, %s: refused, only blob downloads may leave the registry's host", w.src.Host, mirror.Host)}, nil
		},
	}, {
		name: "referrers redirected to another host",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			mirror := newHostileRegistry(w.t)
			w.src.Set(func(rw http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/referrers/") {
					return false
				}
				http.Redirect(rw, r, "http://"+mirror.Host+r.URL.Path, http.StatusFound)
				return true
			})
			w.t.Cleanup(func() { assert.Empty(w.t, mirror.Requests(), "nothing was sent to the other host") })
			return []string{fmt.Sprintf("registry %s redirected GET /v2/dev/web/referrers/%s to another host, %s: refused", w.src.Host, w.digest, mirror.Host)}, nil
		},
	}, {
		name: "blob redirected to storage that serves other bytes",
		lie: func(w *hostileWorld) ([]string, *v1.Hash) {
			l := w.mf.Layers[0]
			storage := newHostileRegistry(w.t)
			storage.Set(func(rw http.ResponseWriter, r *http.Request) bool {
				_, _ = rw.Write(bytes.Repeat([]byte("x"), int(l.Size)))
				return true
			})
			w.src.Set(answerOn("GET", "/v2/dev/web/blobs/"+l.Digest.String(), func(rw http.ResponseWriter, r *http.Request) {
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
			_, err := w.promoteWeb()
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
			assert.Empty(t, w.tags(w.test("web")), "no tag in the target")
			if bad != nil {
				assert.False(t, w.blobInTarget(*bad), "the bad blob is not in the target")
			}
			assert.Empty(t, w.records(ledger.Query{}), "no ledger record")
			if tc.check != nil {
				tc.check(t, w)
			}

			w.src.Set(nil)
			if tc.heal != nil {
				tc.heal(w)
			}
			res, err := w.promoteWeb()
			require.NoError(t, err, "the honest registry is promoted from")
			assert.Equal(t, w.digest.String(), res.Digest)
			assert.Equal(t, []string{"1.0"}, w.tags(w.test("web")))
			recs := w.records(ledger.Query{})
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
	w.regOpts.Keychain = srcKeychain{host: w.src.Host}
	storage := newHostileRegistry(t)
	storage.Set(func(rw http.ResponseWriter, r *http.Request) bool {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawQuery = "/v2/dev/web/blobs/sha256:"+strings.TrimPrefix(r.URL.Path, "/bucket/"), ""
		w.src.Serve(rw, r2)
		return true
	})
	w.src.Set(func(rw http.ResponseWriter, r *http.Request) bool {
		i := strings.Index(r.URL.Path, "/blobs/sha256:")
		if i < 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			return false
		}
		http.Redirect(rw, r, "http://"+storage.Host+"/bucket/"+r.URL.Path[i+len("/blobs/sha256:"):]+"?X-Amz-Signature=s", http.StatusTemporaryRedirect)
		return true
	})
	res, err := w.promoteWeb()
	require.NoError(t, err)
	assert.Equal(t, w.digest.String(), res.Digest)
	assert.Equal(t, 6, res.Copy.BlobsCopied, "config and three layers, and the SBOM's two blobs, through storage")

	sent := false
	for _, q := range w.src.Requests() {
		sent = sent || strings.HasSuffix(q, " Basic "+srcBasic)
	}
	assert.True(t, sent, "the registry was sent its credentials")
	require.NotEmpty(t, storage.Requests())
	for _, q := range storage.Requests() {
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
