package promote

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// verify is the phase after the tags: the target must serve the digest
// under its digest and every tag it was given (the pointer tag too), as
// the registry itself computes it. Only then are the blobs remembered for
// later mounts and the promotion recorded.
func (r *run) verify(ctx context.Context) error {
	if err := r.e.verify(ctx, r.dst, r.root.m.Digest, withPointer(r.tags, r.env)); err != nil {
		return err
	}
	r.e.rememberBlobs(r.src.repo, r.dst, r.root)
	return nil
}

// verify checks that the target serves the subject under its digest and
// under every tag, as the registry itself computes it.
func (e *Engine) verify(ctx context.Context, dst name.Repository, d v1.Hash, tags []string) error {
	refs := []name.Reference{dst.Digest(d.String())}
	for _, t := range tags {
		tag, err := e.reg.Tag(dst, t)
		if err != nil {
			return err
		}
		refs = append(refs, tag)
	}
	for _, r := range refs {
		got, err := e.rd.Head(ctx, r)
		if err != nil {
			return fmt.Errorf("verifying %s: %w", r, err)
		}
		if got == nil {
			return fmt.Errorf("verifying %s: the target does not serve it after the copy", r)
		}
		if got.Digest != d {
			return fmt.Errorf("verifying %s: the target serves %s, not %s", r, got.Digest, d)
		}
	}
	return nil
}
