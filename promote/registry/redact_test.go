package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
)

// leakWorld is an image on a Leaky registry, a second Leaky registry to
// write to, and the client calls that reach each kind of request.
type leakWorld struct {
	src, dst *regtest.Leaky
	srcRepo  name.Repository
	digest   v1.Hash
	mf       *v1.Manifest
	raw      *Manifest
	n        int             // calls so far: each write goes to a fresh repository or blob
	fresh    name.Repository // on dst, b/app<n>
}

func newLeakWorld(t *testing.T) *leakWorld {
	w := &leakWorld{src: regtest.NewLeaky(t), dst: regtest.NewLeaky(t)}
	img := regtest.Image(t, 2, regtest.Labels("1"), "1000")
	w.digest = regtest.Push(t, w.src.Host+"/a/app:1", img)
	var err error
	w.mf, err = img.Manifest()
	require.NoError(t, err)
	c := leakClient(t)
	w.srcRepo, err = c.Repository(w.src.Host + "/a/app")
	require.NoError(t, err)
	w.raw, err = c.Get(context.Background(), w.srcRepo.Tag("1"))
	require.NoError(t, err, "served honestly, the planted URLs work")
	return w
}

func leakClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Options{Insecure: []string{"127.0.0.1"},
		Retry: Retry{Attempts: 3, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, RestartWait: time.Millisecond}})
	require.NoError(t, err)
	return c
}

type leakOp struct {
	name string
	run  func(ctx context.Context, c *Client, w *leakWorld) error
}

var (
	opFetchConfig = leakOp{"FetchBlob", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.FetchBlob(ctx, w.srcRepo, w.mf.Config, 1<<20)
		return err
	}}
	opCopyBlob = leakOp{"CopyBlob", func(ctx context.Context, c *Client, w *leakWorld) error {
		return c.CopyBlob(ctx, w.srcRepo, w.dstRepo(), w.mf.Layers[0])
	}}
	opBlobExists = leakOp{"BlobExists", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.BlobExists(ctx, w.srcRepo, w.mf.Layers[0].Digest)
		return err
	}}
	opPutBlob = leakOp{"PutBlob", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.PutBlob(ctx, w.dstRepo(), types.OCIConfigJSON, []byte(`{"n":`+strconv.Itoa(w.n)+`}`))
		return err
	}}
	opGet = leakOp{"Get", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.Get(ctx, w.srcRepo.Tag("1"))
		return err
	}}
	opHead = leakOp{"Head", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.Head(ctx, w.srcRepo.Tag("1"))
		return err
	}}
	opPut = leakOp{"Put", func(ctx context.Context, c *Client, w *leakWorld) error {
		return c.Put(ctx, w.srcRepo.Tag("copy-"+strconv.Itoa(w.n)), w.raw)
	}}
	opReferrers = leakOp{"Referrers", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.Referrers(ctx, w.srcRepo, w.digest)
		return err
	}}
	opTags = leakOp{"Tags", func(ctx context.Context, c *Client, w *leakWorld) error {
		_, err := c.Tags(ctx, w.srcRepo)
		return err
	}}
)

// dstRepo is the fresh repository on the second registry of this call.
func (w *leakWorld) dstRepo() name.Repository { return w.fresh }

func status(code int) faults.Fault { return faults.Fault{Kind: faults.Status, Status: code} }

var (
	resetBefore = faults.Fault{Kind: faults.ResetBefore}
	stall       = faults.Fault{Kind: faults.Stall}
)

// Every kind of request a registry sends to a secret-bearing URL (a
// pre-signed storage URL, an upload session's Location, a token realm, a
// next page, a redirect on the registry's host) fails in each way that
// makes an error: no error promote's registry client returns carries a
// query string, while each still names the host and path it failed on and
// keeps the types callers branch on.
func TestNoQueryStringInRegistryErrors(t *testing.T) {
	w := newLeakWorld(t)
	type leakCase struct {
		leak  regtest.Leak
		fault faults.Fault
		ops   []leakOp
		check func(t *testing.T, w *leakWorld, err error)
	}
	statusIs := func(code int) func(*testing.T, *leakWorld, error) {
		return func(t *testing.T, _ *leakWorld, err error) {
			var te *transport.Error
			require.True(t, errors.As(err, &te), "a *transport.Error: %v", err)
			assert.Equal(t, code, te.StatusCode)
		}
	}
	exhausted := func(t *testing.T, _ *leakWorld, err error) {
		var ee *ExhaustedError
		assert.True(t, errors.As(err, &ee), "an *ExhaustedError: %v", err)
	}
	deadline := func(t *testing.T, _ *leakWorld, err error) {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	refused := func(t *testing.T, _ *leakWorld, err error) {
		assert.True(t, isRefusal(err), "a *PolicyError: %v", err)
	}
	namesStorage := func(then func(*testing.T, *leakWorld, error)) func(*testing.T, *leakWorld, error) {
		return func(t *testing.T, w *leakWorld, err error) {
			assert.Contains(t, err.Error(), w.src.Storage+"/bucket/a/app/blobs/", "names the storage host and path")
			then(t, w, err)
		}
	}
	blobReads := []leakOp{opFetchConfig, opCopyBlob}
	uploads := []leakOp{opPutBlob, opCopyBlob}
	cases := []leakCase{
		{regtest.LeakBlobGet, status(403), blobReads, namesStorage(statusIs(403))},
		{regtest.LeakBlobGet, status(500), blobReads, namesStorage(statusIs(500))},
		{regtest.LeakBlobGet, resetBefore, blobReads, namesStorage(exhausted)},
		{regtest.LeakBlobGet, faults.Fault{Kind: faults.ResetMidResponse, After: 100}, blobReads, nil},
		{regtest.LeakBlobGet, faults.Fault{Kind: faults.Truncate, After: 100}, blobReads, nil},
		{regtest.LeakBlobGet, faults.Fault{Kind: faults.Corrupt}, blobReads, nil},
		{regtest.LeakBlobGet, stall, blobReads, deadline},
		{regtest.LeakBlobHead, status(403), []leakOp{opBlobExists}, namesStorage(statusIs(403))},
		{regtest.LeakBlobHead, resetBefore, []leakOp{opBlobExists}, namesStorage(exhausted)},
		{regtest.LeakBlobHead, stall, []leakOp{opBlobExists}, deadline},
		{regtest.LeakUploadPost, status(403), uploads, statusIs(403)},
		{regtest.LeakUploadPost, status(500), uploads, statusIs(500)},
		{regtest.LeakUploadPost, resetBefore, uploads, nil},
		{regtest.LeakUploadPatch, status(500), uploads, statusIs(500)},
		{regtest.LeakUploadPatch, resetBefore, uploads, func(t *testing.T, w *leakWorld, err error) {
			assert.Equal(t, restartAttempts, w.dst.Injected(), "a broken upload still restarts: %v", err)
		}},
		{regtest.LeakUploadPatch, faults.Fault{Kind: faults.ResetMidUpload, After: 10}, uploads, nil},
		{regtest.LeakUploadPatch, stall, uploads, deadline},
		{regtest.LeakUploadPut, status(400), uploads, statusIs(400)},
		{regtest.LeakUploadPut, resetBefore, uploads, nil},
		{regtest.LeakUploadPut, faults.Fault{Kind: faults.ResetMidUpload, After: 10}, uploads, func(t *testing.T, w *leakWorld, err error) {
			assert.Equal(t, restartAttempts, w.dst.Injected(), "a blob broken off in its one PUT restarts its session: %v", err)
		}},
		{regtest.LeakUploadPut, stall, uploads, deadline},
		{regtest.LeakManifestGet, status(403), []leakOp{opGet}, statusIs(403)},
		{regtest.LeakManifestGet, status(500), []leakOp{opGet}, statusIs(500)},
		{regtest.LeakManifestGet, status(404), []leakOp{opGet}, func(t *testing.T, _ *leakWorld, err error) {
			assert.ErrorIs(t, err, errs.ErrNotFound)
		}},
		{regtest.LeakManifestGet, resetBefore, []leakOp{opGet}, exhausted},
		{regtest.LeakManifestGet, faults.Fault{Kind: faults.Corrupt}, []leakOp{opGet}, refused},
		{regtest.LeakManifestGet, stall, []leakOp{opGet}, deadline},
		{regtest.LeakManifestHead, status(403), []leakOp{opHead}, statusIs(403)},
		{regtest.LeakManifestHead, resetBefore, []leakOp{opHead}, exhausted},
		{regtest.LeakManifestPut, status(403), []leakOp{opPut}, statusIs(403)},
		{regtest.LeakManifestPut, status(500), []leakOp{opPut}, statusIs(500)},
		{regtest.LeakManifestPut, resetBefore, []leakOp{opPut}, nil},
		{regtest.LeakToken, status(403), []leakOp{opGet, opTags}, nil},
		{regtest.LeakToken, status(500), []leakOp{opGet}, nil},
		{regtest.LeakToken, resetBefore, []leakOp{opGet}, nil},
		{regtest.LeakToken, stall, []leakOp{opGet}, deadline},
		{regtest.LeakReferrers, status(500), []leakOp{opReferrers}, nil},
		{regtest.LeakReferrers, resetBefore, []leakOp{opReferrers}, exhausted},
		{regtest.LeakReferrers, faults.Fault{Kind: faults.Corrupt}, []leakOp{opReferrers}, nil},
		{regtest.LeakTags, status(403), []leakOp{opTags}, statusIs(403)},
		{regtest.LeakTags, resetBefore, []leakOp{opTags}, exhausted},
		{regtest.LeakTags, stall, []leakOp{opTags}, deadline},
	}
	for _, tc := range cases {
		for _, op := range tc.ops {
			t.Run(fmt.Sprintf("%s %s %s", tc.leak, tc.fault, op.name), func(t *testing.T) {
				w.n++
				var err error
				w.fresh, err = name.NewRepository(fmt.Sprintf("%s/b/app%d", w.dst.Host, w.n), name.Insecure)
				require.NoError(t, err)
				w.src.Fail(tc.leak, tc.fault)
				w.dst.Fail(tc.leak, tc.fault)
				defer w.src.Fail("", faults.Fault{})
				defer w.dst.Fail("", faults.Fault{})
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				if tc.fault.Kind == faults.Stall {
					ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
				}
				defer cancel()
				err = op.run(ctx, leakClient(t), w)
				require.Error(t, err)
				t.Log(err)
				require.Positive(t, w.src.Injected()+w.dst.Injected(), "the fault was met: %v", err)
				outs := []string{err.Error(), fmt.Sprintf("%+v", err)}
				var ee *ExhaustedError
				if errors.As(err, &ee) {
					outs = append(outs, ee.Error())
				}
				for _, out := range outs {
					assert.Empty(t, regtest.Leaked(out), "no query string in %q", out)
				}
				if tc.check != nil {
					tc.check(t, w, err)
				}
			})
		}
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		`Get "https://s3.example.com/b/k?X-Amz-Signature=abc&X-Amz-Security-Token=t%2B": EOF`: `Get "https://s3.example.com/b/k?REDACTED": EOF`,
		`GET http://h:5000/v2/a/blobs/uploads/1?_state=s&digest=sha256:ab: DIGEST_INVALID`:    `GET http://h:5000/v2/a/blobs/uploads/1?REDACTED: DIGEST_INVALID`,
		`failed to parse link header: missing '>' in: </v2/a/tags/list?last=x&sig=y`:          `failed to parse link header: missing '>' in: </v2/a/tags/list?REDACTED`,
		`(see https://h/p#frag), then http://h/q?a=b, and https://h/ok`:                       `(see https://h/p?REDACTED), then http://h/q?REDACTED, and https://h/ok`,
		`refusing token-server redirect to "http://a/t?x=\"y\"": bad`:                         `refusing token-server redirect to "http://a/t?REDACTED"y\"": bad`,
		`no URL here? none: a/b?c`:                           `no URL here? none: a/b?c`,
		`manifest 127.0.0.1:5000/a/app@sha256:ab: not found`: `manifest 127.0.0.1:5000/a/app@sha256:ab: not found`,
	} {
		assert.Equal(t, want, RedactText(in), "in: %s", in)
	}
	u, err := url.Parse("https://user:pw@h/p?q=1#f")
	require.NoError(t, err)
	assert.Equal(t, "https://h/p?REDACTED", RedactURL(u))
}

// The redacted error still answers errors.Is and errors.As for what it
// wraps, and redacting twice changes nothing.
func TestRedactedErrorsUnwrap(t *testing.T) {
	inner := &url.Error{Op: "Get", URL: "https://h/p?X-Amz-Signature=s", Err: context.Canceled}
	err := redact(fmt.Errorf("fetching: %w", inner))
	assert.Equal(t, `fetching: Get "https://h/p?REDACTED": context canceled`, err.Error())
	assert.ErrorIs(t, err, context.Canceled)
	var ue *url.Error
	assert.True(t, errors.As(err, &ue))
	assert.Same(t, err, redact(err))
	plain := errors.New("no URL")
	assert.Same(t, plain, redact(plain))
	assert.NoError(t, redact(nil))
}
