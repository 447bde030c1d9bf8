package promote

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/promote/registry"
)

// reader is every registry read a promotion makes: resolving the source,
// fetching its tree and configs for the gates, surveying the target and
// verifying it. *registry.Client is one; tests use a recording fake.
type reader interface {
	Get(ctx context.Context, ref name.Reference) (*registry.Manifest, error)
	// Head returns (nil, nil) when ref does not exist.
	Head(ctx context.Context, ref name.Reference) (*v1.Descriptor, error)
	BlobExists(ctx context.Context, repo name.Repository, d v1.Hash) (bool, error)
	FetchBlob(ctx context.Context, repo name.Repository, desc v1.Descriptor, max int64) ([]byte, error)
	Referrers(ctx context.Context, repo name.Repository, d v1.Hash) ([]v1.Descriptor, error)
	Tags(ctx context.Context, repo name.Repository) ([]string, error)
	// Warm starts, in the background, what a first request of repo's
	// registry would wait for (its ping), and returns at once.
	Warm(ctx context.Context, repo name.Repository)
}

// writer is every registry write a promotion makes: blobs, then manifests
// by digest, then tags (all through Put), then the promotion attestation
// (PutBlob and Put). Nothing else in the engine writes to a registry.
type writer interface {
	CopyBlob(ctx context.Context, src, dst name.Repository, desc v1.Descriptor) error
	MountBlob(ctx context.Context, src, from, dst name.Repository, desc v1.Descriptor) error
	Put(ctx context.Context, ref name.Reference, m *registry.Manifest) error
	PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error)
	// OpenUploads opens upload sessions for blobs about to be copied, in
	// the background; it writes no content.
	OpenUploads(ctx context.Context, dst name.Repository, descs []v1.Descriptor)
}

// registryIO joins the two for the attestation, which reads and writes.
type registryIO struct {
	reader
	writer
}
