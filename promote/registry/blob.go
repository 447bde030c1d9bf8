package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// BlobExists reports whether repo holds the blob d.
func (c *Client) BlobExists(ctx context.Context, repo name.Repository, d v1.Hash) (_ bool, err error) {
	defer done(&err, repo)
	l, err := c.puller.Layer(ctx, repo.Digest(d.String()))
	if err != nil {
		return false, fmt.Errorf("checking blob %s in %s: %w", d, repo, err)
	}
	ml, ok := l.(*remote.MountableLayer)
	if !ok {
		return false, fmt.Errorf("checking blob %s in %s: unexpected layer type %T", d, repo, l)
	}
	ok, err = partial.Exists(ml.Layer)
	if err != nil {
		return false, fmt.Errorf("checking blob %s in %s: %w", d, repo, err)
	}
	return ok, nil
}

// CopyBlob streams the blob desc names from src to dst: a cross-repository
// mount when both are on one registry, otherwise a streamed upload that
// never holds the blob in memory and whose digest the target checks (see
// stream.go). A blob dst already has is skipped. A failed upload starts a
// new session that reads the source again.
func (c *Client) CopyBlob(ctx context.Context, src, dst name.Repository, desc v1.Descriptor) (err error) {
	defer done(&err, src, dst)
	if err := c.upload(ctx, src, src, dst, desc); err != nil {
		return fmt.Errorf("copying blob %s from %s to %s: %w", desc.Digest, src, dst, explain(dst.RegistryStr(), unwrapRefusal(err)))
	}
	return nil
}

// FetchBlob reads a small blob (a config, a signature payload) of at most
// max bytes into memory, verifying its digest.
func (c *Client) FetchBlob(ctx context.Context, repo name.Repository, desc v1.Descriptor, max int64) (_ []byte, err error) {
	defer done(&err, repo)
	if desc.Size > max {
		return nil, fmt.Errorf("blob %s in %s is %d bytes, more than the %d allowed", desc.Digest, repo, desc.Size, max)
	}
	l, err := c.puller.Layer(ctx, repo.Digest(desc.Digest.String()))
	if err != nil {
		return nil, fmt.Errorf("opening blob %s in %s: %w", desc.Digest, repo, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s from %s: %w", desc.Digest, repo, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s from %s: %w", desc.Digest, repo, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("blob %s in %s is larger than the %d bytes allowed", desc.Digest, repo, max)
	}
	if int64(len(b)) != desc.Size {
		return nil, refuse("blob %s in %s is %d bytes, not the %d its descriptor declares: refused", desc.Digest, repo, len(b), desc.Size)
	}
	return b, nil
}

// PutBlob uploads a small in-memory blob (an image config, an attestation
// bundle, the OCI empty config) to repo and returns its descriptor: in one
// PUT where the registry takes it (no existence check first: a blob the
// registry holds is stored once however often it is sent), else in
// go-containerregistry's upload, which asks first.
func (c *Client) PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (_ v1.Descriptor, err error) {
	defer done(&err, repo)
	l := static.NewLayer(data, mt)
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	err = c.restart(ctx, func() error {
		return c.pushOrChunk(ctx, nil, repo, desc, open, func() error { return c.pusher.Upload(ctx, repo, l) })
	})
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("uploading blob %s to %s: %w", d, repo, explain(repo.RegistryStr(), err))
	}
	return desc, nil
}
