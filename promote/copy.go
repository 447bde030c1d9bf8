package promote

import (
	"context"
	"errors"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/registry"
)

// CopyStats says what a copy moved.
type CopyStats struct {
	BlobsCopied int `json:"blobsCopied"`
	// BlobsMounted counts blobs copied within one registry by a
	// cross-repository mount request; a registry that declines the mount
	// (ECR unless BLOB_MOUNTING is on) receives them as uploads instead,
	// whose bytes Bytes does not count.
	BlobsMounted     int   `json:"blobsMounted"`
	BlobsPresent     int   `json:"blobsPresent"`
	Bytes            int64 `json:"bytes"`
	ManifestsWritten int   `json:"manifestsWritten"`
	ManifestsPresent int   `json:"manifestsPresent"`
}

// copy is the first phase under the lock: every blob and manifest the
// plan lacks, nothing an environment reads yet (no tag).
func (r *run) copy(ctx context.Context) error {
	stats, err := r.e.copyContent(ctx, r.src.repo, r.dst, r.res.Plan)
	r.res.Copy = &stats
	if err != nil {
		return err
	}
	if r.e.hooks.afterCopy != nil {
		return r.e.hooks.afterCopy()
	}
	return nil
}

// copyContent performs the content part of a plan in the order invariant 5
// requires: every blob, then the manifests by digest (children before their
// index), then the referrers and legacy attachment tags. It writes no
// environment tag. Blobs stream in parallel; manifests (few and small) go
// one after another so that none is written before what it references.
func (e *Engine) copyContent(ctx context.Context, src, dst name.Repository, p *Plan) (CopyStats, error) {
	var st CopyStats
	var mu sync.Mutex
	done := func(b BlobStep) { // counted once finished: an interrupted copy says what it really did
		mu.Lock()
		defer mu.Unlock()
		if b.Action == ActMount {
			st.BlobsMounted++
			return
		}
		st.BlobsCopied++
		st.Bytes += b.Size
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	if pr := e.progress; pr != nil {
		pr.Start(p.Target, moving(p))
		defer pr.Finish()
		gctx = registry.WithProgress(gctx, func(d v1.Hash, n int64) { pr.Bytes(d.String(), n) })
	}
	for _, b := range p.Blobs {
		if b.Action == ActPresent {
			st.BlobsPresent++
			continue
		}
		desc := v1.Descriptor{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType}
		from := src
		if b.From != "" {
			var err error
			if from, err = e.reg.Repository(b.From); err != nil {
				werr := g.Wait() // the blobs under way finish (and count) first
				return st, errors.Join(err, werr)
			}
		}
		g.Go(func() error {
			var err error
			if b.From != "" {
				err = e.wr.MountBlob(gctx, src, from, dst, desc)
			} else {
				err = e.wr.CopyBlob(gctx, src, dst, desc)
			}
			if err == nil {
				done(b)
			}
			if e.progress != nil {
				e.progress.Done(b.Digest.String(), err)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return st, err
	}
	for _, m := range p.Manifests {
		if m.Action == ActPresent {
			st.ManifestsPresent++
			continue
		}
		if err := e.wr.Put(ctx, dst.Digest(m.Digest.String()), m.node.m); err != nil {
			return st, err
		}
		if m.Tag != "" {
			if err := e.wr.Put(ctx, dst.Tag(m.Tag), m.node.m); err != nil {
				return st, err
			}
		}
		st.ManifestsWritten++
		e.log.Debug("manifest written", "digest", m.Digest, "role", m.Role)
	}
	return st, nil
}

// rememberBlobs notes, for later promotions of other apps, that src and
// dst both hold every blob of the tree. Best effort: a cache that cannot
// be written is logged, never an error.
func (e *Engine) rememberBlobs(src, dst name.Repository, root *node) {
	if e.blobs == nil {
		return
	}
	var ds []v1.Hash
	for _, n := range root.order() {
		for _, b := range n.blobs {
			ds = append(ds, b.Digest)
		}
	}
	for _, r := range []name.Repository{dst, src} {
		if err := e.blobs.Remember(r.RegistryStr(), r.RepositoryStr(), ds); err != nil {
			e.log.Debug("blob cache not updated", "repository", r.Name(), "error", err)
		}
	}
}
