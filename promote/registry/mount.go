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
func (c *Client) MountBlob(ctx context.Context, src, from, dst name.Repository, desc v1.Descriptor) error {
	if from.RegistryStr() != dst.RegistryStr() {
		return fmt.Errorf("mounting blob %s: %s is not on %s's registry", desc.Digest, from, dst)
	}
	err := c.restart(ctx, func() error {
		blob := &streamLayer{desc: desc, open: func() (io.ReadCloser, error) { return c.openBlob(ctx, src, desc) }}
		return c.pusher.Upload(ctx, dst, &remote.MountableLayer{Layer: blob, Reference: from.Digest(desc.Digest.String())})
	})
	if err != nil {
		return fmt.Errorf("copying blob %s to %s (mounting from %s): %w", desc.Digest, dst, from, explain(dst.RegistryStr(), err))
	}
	return nil
}
