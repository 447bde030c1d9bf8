package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/errs"
)

// Manifest is a manifest exactly as the registry stored it. Raw is never
// re-serialised, so Digest is the SHA-256 of Raw wherever it is written.
type Manifest struct {
	Digest v1.Hash
	Type   types.MediaType // sent as Content-Type when written
	Raw    []byte
}

// RawManifest implements remote.Taggable.
func (m *Manifest) RawManifest() ([]byte, error) { return m.Raw, nil }

// MediaType implements remote.Taggable's optional media type, so the
// manifest is written with its own Content-Type.
func (m *Manifest) MediaType() (types.MediaType, error) { return m.Type, nil }

// Descriptor describes m for an index or referrers list.
func (m *Manifest) Descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: m.Type, Digest: m.Digest, Size: int64(len(m.Raw))}
}

// Get fetches the manifest ref names and checks that its bytes hash to the
// digest the registry reported (and to ref's digest, for a digest reference).
// A missing manifest returns an error wrapping errs.ErrNotFound.
func (c *Client) Get(ctx context.Context, ref name.Reference) (_ *Manifest, err error) {
	defer done(&err, ref.Context())
	d, err := c.puller.Get(ctx, ref)
	if err != nil {
		if IsNotFound(err) {
			return nil, fmt.Errorf("%w: manifest %s", errs.ErrNotFound, ref)
		}
		return nil, fmt.Errorf("fetching manifest %s: %w", ref, explain(ref.Context().RegistryStr(), err))
	}
	h, _, err := v1.SHA256(bytesReader(d.Manifest))
	if err != nil {
		return nil, err
	}
	if h != d.Digest {
		return nil, fmt.Errorf("manifest %s: registry reported digest %s but the content hashes to %s", ref, d.Digest, h)
	}
	if dg, ok := ref.(name.Digest); ok && dg.DigestStr() != h.String() {
		return nil, fmt.Errorf("manifest %s: content hashes to %s", ref, h)
	}
	return &Manifest{Digest: h, Type: d.MediaType, Raw: d.Manifest}, nil
}

// Head returns the descriptor ref names without fetching the manifest, or
// (nil, nil) when it does not exist.
func (c *Client) Head(ctx context.Context, ref name.Reference) (_ *v1.Descriptor, err error) {
	defer done(&err, ref.Context())
	d, err := c.puller.Head(ctx, ref)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("checking %s: %w", ref, explain(ref.Context().RegistryStr(), err))
	}
	return d, nil
}

// Put writes m's raw bytes under ref (a tag or m's digest). A manifest with a
// subject also updates the referrers tag-schema index on registries without
// the referrers API. The caller must have written everything m references.
func (c *Client) Put(ctx context.Context, ref name.Reference, m *Manifest) (err error) {
	defer done(&err, ref.Context())
	if dg, ok := ref.(name.Digest); ok && dg.DigestStr() != m.Digest.String() {
		return fmt.Errorf("refusing to write manifest %s under digest %s", m.Digest, dg.DigestStr())
	}
	if err := c.restart(ctx, func() error { return c.pusher.Put(ctx, ref, m) }); err != nil {
		return fmt.Errorf("writing manifest %s to %s: %w", m.Digest, ref, explain(ref.Context().RegistryStr(), err))
	}
	return nil
}

// Delete removes the manifest ref names (used only by tests and tooling;
// promote itself never deletes).
func (c *Client) Delete(ctx context.Context, ref name.Reference) error {
	err := c.pusher.Delete(ctx, ref)
	done(&err, ref.Context())
	return err
}
