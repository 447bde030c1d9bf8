package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
)

func newClient(t *testing.T) *Client {
	c, err := New(Options{Jobs: 2, Insecure: []string{"127.0.0.1"}, Retry: Retry{WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}})
	require.NoError(t, err)
	return c
}

func TestGetHeadPutRoundTrip(t *testing.T) {
	reg := regtest.New(t)
	c := newClient(t)
	ctx := context.Background()
	img := regtest.Image(t, 2, regtest.Labels("1"), "1000")
	d := regtest.Push(t, reg.Host+"/a/app:1", img)

	repo, err := c.Repository(reg.Host + "/a/app")
	require.NoError(t, err)
	tag, err := c.Tag(repo, "1")
	require.NoError(t, err)
	m, err := c.Get(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, d, m.Digest)
	assert.Equal(t, types.DockerManifestSchema2, m.Type)

	missing, err := c.Tag(repo, "nope")
	require.NoError(t, err)
	_, err = c.Get(ctx, missing)
	assert.ErrorIs(t, err, errs.ErrNotFound)
	desc, err := c.Head(ctx, missing)
	require.NoError(t, err)
	assert.Nil(t, desc, "a missing manifest is (nil, nil)")

	// Blobs: present in the source, copied into another repository, then Put.
	dst, err := c.Repository(reg.Host + "/b/app")
	require.NoError(t, err)
	mf, err := img.Manifest()
	require.NoError(t, err)
	for _, b := range append([]v1.Descriptor{mf.Config}, mf.Layers...) {
		require.NoError(t, c.CopyBlob(ctx, repo, dst, b))
		ok, err := c.BlobExists(ctx, dst, b.Digest)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	require.NoError(t, c.Put(ctx, dst.Digest(d.String()), m))
	got, err := c.Head(ctx, dst.Digest(d.String()))
	require.NoError(t, err)
	assert.Equal(t, d, got.Digest)
	assert.Equal(t, types.DockerManifestSchema2, got.MediaType)

	// Put refuses to write bytes under a digest they do not hash to.
	other := dst.Digest("sha256:" + strings.Repeat("0", 64))
	assert.ErrorContains(t, c.Put(ctx, other, m), "refusing")

	cfg, err := c.FetchBlob(ctx, repo, mf.Config, 1<<20)
	require.NoError(t, err)
	assert.Len(t, cfg, int(mf.Config.Size))
	_, err = c.FetchBlob(ctx, repo, mf.Config, 10)
	assert.ErrorContains(t, err, "more than the 10 allowed")
}

func TestErrorsAreNotFoundOnlyFor404(t *testing.T) {
	reg := regtest.New(t)
	c := newClient(t)
	reg.Fail(func(r *http.Request) int { return http.StatusForbidden })
	repo, err := c.Repository(reg.Host + "/a/app")
	require.NoError(t, err)
	_, err = c.Head(context.Background(), repo.Tag("1"))
	require.Error(t, err, "a 403 is an error, not an absent manifest")
	assert.False(t, IsNotFound(err))
}

func TestAttachmentTags(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	assert.Equal(t, "sha256-"+d.Hex+".sig", AttachmentTag(d, "sig"))
	assert.Equal(t, "sha256-"+d.Hex, AttachmentTag(d, ""))
	assert.True(t, IsAttachmentTag(AttachmentTag(d, "att")))
	assert.True(t, IsAttachmentTag(AttachmentTag(d, "")))
	assert.False(t, IsAttachmentTag("sha256-short.sig"))
	assert.False(t, IsAttachmentTag("1.0.0"))
}

func TestRepositoryValidation(t *testing.T) {
	c := newClient(t)
	_, err := c.Repository("Registry.example.com/UPPER/app")
	assert.ErrorIs(t, err, errs.ErrUsage)
	_, err = New(Options{Jobs: -1})
	assert.Error(t, err)
}

func TestThrottlingThatOutlastsRetriesNamesTheLimit(t *testing.T) {
	reg := regtest.New(t)
	c := newClient(t)
	reg.Fail(func(r *http.Request) int { return http.StatusTooManyRequests })
	repo, err := c.Repository(reg.Host + "/a/app")
	require.NoError(t, err)
	_, err = c.Head(context.Background(), repo.Tag("1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "request rate limit was exceeded")
	assert.Len(t, reg.Requests(), 8, "retried before giving up, eight attempts in all")
}
