package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// verify is the phase after the tags: the target must serve the digest
// under every tag it was given (the pointer tag too), as the registry
// itself computes it. Only then are the blobs remembered for
// later mounts and the promotion recorded.
func (r *run) verify(ctx context.Context) error {
	if err := r.e.verify(ctx, r.dst, r.root.m.Digest, withPointer(r.tags, r.env)); err != nil {
		return err
	}
	r.e.rememberBlobs(r.src.repo, r.dst, r.root)
	return nil
}

// verify checks that the target serves the subject under every tag (or,
// with none, under its digest), as the registry itself computes it: a tag
// answered with the digest is the manifest served by that digest, so its
// own question is not asked again. The questions go out together.
func (e *Engine) verify(ctx context.Context, dst name.Repository, d v1.Hash, tags []string) error {
	var refs []name.Reference
	if len(tags) == 0 {
		refs = append(refs, dst.Digest(d.String()))
	}
	for _, t := range tags {
		tag, err := e.reg.Tag(dst, t)
		if err != nil {
			return err
		}
		refs = append(refs, tag)
	}
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Go(func() {
			got, err := e.rd.Head(ctx, r)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("verifying %s: %w", r, err)
			case got == nil:
				errs[i] = fmt.Errorf("verifying %s: the target does not serve it after the copy", r)
			case got.Digest != d:
				errs[i] = fmt.Errorf("verifying %s: the target serves %s, not %s", r, got.Digest, d)
			}
		})
	}
	wg.Wait()
	for _, err := range errs { // the first in order, as when asked in turn
		if err != nil {
			return err
		}
	}
	return nil
}
