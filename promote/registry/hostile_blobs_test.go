package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

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
		reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+layer.Digest.String()) || body == nil {
				return false
			}
			rec := httptest.NewRecorder()
			reg.Serve(rec, r)
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
