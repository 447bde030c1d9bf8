package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// A blob streamed from one registry to another is not hashed on the way:
// the target registry computes the digest of what it receives and refuses
// to commit an upload whose content does not match the digest promote
// names (the OCI distribution spec requires it; distribution and ECR do
// it), so a client-side hash would only check the same bytes twice. On two
// cores that second hash was most of promote's CPU in a cold copy. The
// stream's length is still checked against the descriptor, and blobs
// promote reads into memory to use (configs, signatures) are hashed.

// streamLayer is a blob of known digest, size and media type whose bytes
// come from open, unverified (see above).
//
// With lazy set, the digest is withheld until the bytes are opened: go-
// containerregistry then skips its existence HEAD before the upload (the
// engine's survey of the target has just asked) and the mount attempt (none
// is possible from another registry).
type streamLayer struct {
	desc   v1.Descriptor
	open   func() (io.ReadCloser, error)
	lazy   bool
	opened atomic.Bool
}

func (l *streamLayer) Digest() (v1.Hash, error) {
	if l.lazy && !l.opened.Load() {
		return v1.Hash{}, stream.ErrNotComputed
	}
	return l.desc.Digest, nil
}
func (l *streamLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *streamLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *streamLayer) Compressed() (io.ReadCloser, error) {
	l.opened.Store(true)
	return l.open()
}
func (l *streamLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{}, fmt.Errorf("blob %s: diff ID not known to a streamed copy", l.desc.Digest)
}
func (l *streamLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, fmt.Errorf("blob %s: a streamed copy is never decompressed", l.desc.Digest)
}

// pullers caches an authenticated transport per repository read.
type pullers struct {
	mu sync.Mutex
	m  map[string]http.RoundTripper
}

func (c *Client) pullTransport(ctx context.Context, repo name.Repository) (http.RoundTripper, error) {
	c.pulls.mu.Lock()
	defer c.pulls.mu.Unlock()
	if rt, ok := c.pulls.m[repo.Name()]; ok {
		return rt, nil
	}
	auth, err := authn.Resolve(ctx, c.keychain, repo)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", repo, err)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, c.transport, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	if c.pulls.m == nil {
		c.pulls.m = map[string]http.RoundTripper{}
	}
	c.pulls.m[repo.Name()] = rt
	return rt, nil
}

// openBlob GETs the blob desc names from repo as a stream that fails as
// soon as it runs past desc.Size or ends short of it (sizedBlob).
func (c *Client) openBlob(ctx context.Context, repo name.Repository, desc v1.Descriptor) (io.ReadCloser, error) {
	rt, err := c.pullTransport(ctx, repo)
	if err != nil {
		return nil, err
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/blobs/" + desc.Digest.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return counted(ctx, desc.Digest, &sizedBlob{rc: resp.Body, desc: desc}), nil
}
