package promote

import (
	"cmp"
	"context"
	"errors"
	"slices"
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
	BlobsMounted int   `json:"blobsMounted"`
	BlobsPresent int   `json:"blobsPresent"`
	Bytes        int64 `json:"bytes"`
	// Streamed is the bytes read from the source, of finished blobs and
	// of those under way: what an interrupted copy got through.
	Streamed         int64 `json:"streamed"`
	ManifestsWritten int   `json:"manifestsWritten"`
	ManifestsPresent int   `json:"manifestsPresent"`
}

// copy is the first phase under the lock: every blob and manifest the
// plan lacks, nothing an environment reads yet (no tag). Where nothing
// comes between the root manifest and the tags (no referrer to write) the
// root is left to the first tag, whose one PUT writes both (rootByTag).
func (r *run) copy(ctx context.Context) error {
	var skip *ManifestStep
	if r.rootPending = rootByTag(r.res.Plan); r.rootPending {
		skip = r.res.Plan.root()
	}
	stats, err := r.e.copyContent(ctx, r.src.repo, r.dst, r.res.Plan, skip)
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
func (e *Engine) copyContent(ctx context.Context, src, dst name.Repository, p *Plan, skip *ManifestStep) (CopyStats, error) {
	var st CopyStats
	err := e.copyBlobs(ctx, src, dst, p, &st)
	if err == nil {
		err = e.writeManifests(ctx, dst, p, &st, skip)
	}
	return st, err
}

// rootByTag reports whether a plan's root manifest may be written by its
// first tag instead of by digest first: it is missing, no referrer is to
// be written (invariant 5 puts referrers between the index and the tags),
// and a tag will be written. The registry then stores the manifest and the
// tag in one request, so no tag is ever on partial content, and the
// promotion saves the round trip of the separate write.
func rootByTag(p *Plan) bool {
	root := p.root()
	if root == nil || root.Action == ActPresent {
		return false
	}
	for _, m := range p.Manifests {
		if m.Role == "referrer" && m.Action != ActPresent {
			return false
		}
	}
	for _, t := range p.Tags {
		if t.Action != ActPresent {
			return true
		}
	}
	return false
}

// root is the plan's step of the promoted manifest itself.
func (p *Plan) root() *ManifestStep {
	for i := range p.Manifests {
		if p.Manifests[i].Role == "subject" {
			return &p.Manifests[i]
		}
	}
	return nil
}

// copyBlobs streams or mounts the plan's missing blobs into st: a blob
// counts once it is in the target, and Streamed counts every byte read
// from the source, of blobs finished or under way (an interrupted copy says
// what it really did). Progress, if any, hears it all. Blobs up to
// smallBlob go out together, within the client's lookups (each is round
// trips, not bandwidth); larger ones jobs at a time, largest first, so the
// longest stream starts first. An image config the gates read is sent
// from memory rather than read again.
func (e *Engine) copyBlobs(ctx context.Context, src, dst name.Repository, p *Plan, st *CopyStats) error {
	var mu sync.Mutex
	streamed := map[v1.Hash]int64{} // bytes of each blob's current attempt
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range streamed {
			st.Streamed += n
		}
	}()
	var pr CopyProgress
	if e.progress != nil {
		pr = e.progress.Start(p.Target, moving(p))
		defer pr.Finish()
	}
	g, gctx := errgroup.WithContext(ctx)
	small, large := make(chan struct{}, e.reg.Lookups()), make(chan struct{}, e.reg.Jobs())
	progress := func(d v1.Hash, n int64) {
		mu.Lock()
		streamed[d] = n
		mu.Unlock()
		if pr != nil {
			pr.Bytes(d.String(), n)
		}
	}
	gctx = registry.WithProgress(gctx, progress)
	finished := func(b BlobStep, err error) {
		if pr != nil {
			pr.Done(b.Digest.String(), err)
		}
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if b.Action == ActMount {
			st.BlobsMounted++
			return
		}
		st.BlobsCopied++
		st.Bytes += b.Size
	}
	known := configsOf(p)
	for _, b := range largestFirst(p.Blobs) {
		if b.Action == ActPresent {
			mu.Lock()
			st.BlobsPresent++
			mu.Unlock()
			continue
		}
		desc := v1.Descriptor{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType}
		from := src
		if b.From != "" {
			var err error
			if from, err = e.reg.Repository(b.From); err != nil {
				return errors.Join(err, g.Wait()) // the blobs under way finish (and count) first
			}
		}
		lane := large
		if b.Size <= smallBlob {
			lane = small
		}
		g.Go(func() error { // each waits for its lane: small ones never queue behind large ones
			select {
			case lane <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			defer func() { <-lane }()
			var err error
			switch data := known[b.Digest]; {
			case b.From != "":
				err = e.wr.MountBlob(gctx, src, from, dst, desc)
			case data != nil && b.Action == ActCopy:
				if _, err = e.wr.PutBlob(gctx, dst, b.MediaType, data); err == nil {
					progress(b.Digest, b.Size) // read from the source once, for the gates
				}
			default:
				err = e.wr.CopyBlob(gctx, src, dst, desc)
			}
			finished(b, err)
			return err
		})
	}
	return g.Wait()
}

// smallBlob is the size up to which a blob copies in the lane of small
// requests rather than among the jobs.
const smallBlob = 1 << 20

// largestFirst is the plan's blobs, largest first (the order of equal
// sizes kept).
func largestFirst(bs []BlobStep) []BlobStep {
	out := slices.Clone(bs)
	slices.SortStableFunc(out, func(a, b BlobStep) int { return cmp.Compare(b.Size, a.Size) })
	return out
}

// configsOf is the image configs in memory for the plan's manifests, by digest.
func configsOf(p *Plan) map[v1.Hash][]byte {
	out := map[v1.Hash][]byte{}
	for _, m := range p.Manifests {
		if c := m.node.config; c != nil && c.raw != nil {
			out[c.desc.Digest] = c.raw
		}
	}
	return out
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
