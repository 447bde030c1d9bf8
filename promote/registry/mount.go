package registry

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// MountBlob asks dst's registry to mount the blob desc names from from, a
// repository on the same registry known to hold it (an earlier promotion
// of another app, say). Where the registry declines (the blob is gone, or
// mounts are off, as on ECR without BLOB_MOUNTING), the blob is streamed
// from src instead, as CopyBlob does.
func (c *Client) MountBlob(ctx context.Context, src, from, dst name.Repository, desc v1.Descriptor) (err error) {
	defer done(&err, src, dst)
	if from.RegistryStr() != dst.RegistryStr() {
		return fmt.Errorf("mounting blob %s: %s is not on %s's registry", desc.Digest, from, dst)
	}
	if err := c.upload(ctx, src, from, dst, desc); err != nil {
		return fmt.Errorf("copying blob %s to %s (mounting from %s): %w", desc.Digest, dst, from, explain(dst.RegistryStr(), unwrapRefusal(err)))
	}
	return nil
}

// upload puts the blob desc names into dst: a mount from from where from
// is on dst's registry and the registry agrees, otherwise a stream read
// from src, in one PUT where the registry takes it (upload.go), else in
// go-containerregistry's chunked upload (digest withheld, so that no
// existence check or mount is tried: the caller's survey has just asked).
// A failed upload starts a new session.
func (c *Client) upload(ctx context.Context, src, from, dst name.Repository, desc v1.Descriptor) error {
	mountable := from.RegistryStr() == dst.RegistryStr()
	var mount *name.Repository
	if mountable {
		mount = &from
	}
	open := func(ctx context.Context) (io.ReadCloser, error) { return c.openBlob(ctx, src, desc) }
	return c.restart(ctx, func() error {
		return c.pushOrChunk(ctx, mount, dst, desc, open, func() error {
			blob := &streamLayer{desc: desc, open: func() (io.ReadCloser, error) { return open(ctx) }, lazy: !mountable}
			return c.pusher.Upload(ctx, dst, &remote.MountableLayer{Layer: blob, Reference: from.Digest(desc.Digest.String())})
		})
	})
}
