package registry

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

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
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
		reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
		reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
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
	assert.Empty(t, other.Requests())

	// Pages of 3000 descriptors (about 400 KB each) pass the 4096 cap only
	// below it, so the 4 MiB byte budget across pages is tested with fat ones.
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
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

// A tag list is bounded like a manifest: a page over 4 MiB is refused, and
// a list that never ends is refused after maxTagPages pages, not followed.
func TestTagListsAreBounded(t *testing.T) {
	reg := newHostileSrv(t)
	c := guardedClient(t, baseTransport(), nil)
	ctx := context.Background()
	var pages atomic.Int64
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/v2/a/endless/tags/list":
			n := pages.Add(1)
			w.Header().Set("Link", fmt.Sprintf(`</v2/a/endless/tags/list?last=t%d&n=1>; rel="next"`, n))
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"name":"a/endless","tags":["t%d"]}`, n)
			return true
		case "/v2/a/huge/tags/list":
			body := `{"name":"a/huge","tags":["` + strings.Repeat("x", maxManifestBytes) + `"]}`
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write([]byte(body))
			return true
		}
		return false
	})
	endless, err := c.Repository(reg.Host + "/a/endless")
	require.NoError(t, err)
	_, err = c.Tags(ctx, endless)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("runs past %d pages", maxTagPages))
	assert.LessOrEqual(t, pages.Load(), int64(maxTagPages), "not followed on")

	huge, err := c.Repository(reg.Host + "/a/huge")
	require.NoError(t, err)
	_, err = c.Tags(ctx, huge)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tag list of "+reg.Host+"/a/huge")
}
