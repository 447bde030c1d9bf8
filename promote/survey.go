package promote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// targetState is what the target holds, gathered before planning.
type targetState struct {
	manifests map[v1.Hash]bool   // present by digest
	attach    map[string]v1.Hash // legacy attachment tag -> digest it names
	blobs     map[v1.Hash]bool
	mountFrom map[v1.Hash]string // missing blob -> repository on the target registry that held it
	tags      map[string]v1.Hash // environment tag -> digest it names (absent = missing)
}

// survey asks the target what it holds: every manifest by digest, every
// attachment tag, every environment tag and every blob, all at once (one
// round trip over a network, within the client's lookups). Blobs are
// asked even where a manifest the target has would imply them (registries
// refuse a manifest whose blobs are missing): waiting for the manifests'
// answers before asking would cost a round trip on every promotion with
// something to copy, and asking costs only small requests on one without.
func (e *Engine) survey(ctx context.Context, src, dst name.Repository, root *node, tags []string) (*targetState, error) {
	st := &targetState{manifests: map[v1.Hash]bool{}, attach: map[string]v1.Hash{}, blobs: map[v1.Hash]bool{}, tags: map[string]v1.Hash{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Lookups())
	head := func(ref name.Reference, set func(v1.Hash)) {
		g.Go(func() error {
			d, err := e.rd.Head(gctx, ref)
			if err != nil || d == nil {
				return err
			}
			mu.Lock()
			set(d.Digest)
			mu.Unlock()
			return nil
		})
	}
	for _, t := range tags {
		tag, err := e.reg.Tag(dst, t)
		if err != nil {
			return nil, errors.Join(err, g.Wait())
		}
		head(tag, func(d v1.Hash) { st.tags[t] = d })
	}
	nodes := root.order()
	asked := map[v1.Hash]bool{}
	for _, n := range nodes {
		head(dst.Digest(n.m.Digest.String()), func(v1.Hash) { st.manifests[n.m.Digest] = true })
		if n.tag != "" {
			head(dst.Tag(n.tag), func(d v1.Hash) { st.attach[n.tag] = d })
		}
		for _, b := range n.blobs {
			if asked[b.Digest] {
				continue
			}
			asked[b.Digest] = true
			g.Go(func() error {
				ok, err := e.rd.BlobExists(gctx, dst, b.Digest)
				if ok {
					mu.Lock()
					st.blobs[b.Digest] = true
					mu.Unlock()
				}
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("surveying %s: %w", dst, err)
	}
	st.mountFrom = map[v1.Hash]string{}
	unknown := map[v1.Hash]int64{} // missing, and no remembered location
	for _, n := range nodes {
		if st.manifests[n.m.Digest] {
			continue // its blobs are there: nothing to mount
		}
		for _, b := range n.blobs {
			if st.blobs[b.Digest] {
				continue
			}
			if from := e.blobs.Where(dst.RegistryStr(), b.Digest); from != "" && from != dst.RepositoryStr() {
				st.mountFrom[b.Digest] = from
			} else {
				unknown[b.Digest] = b.Size
			}
		}
	}
	if src.RegistryStr() != dst.RegistryStr() { // on one registry, blobs mount from the source itself
		for d, from := range e.ledgerMountSources(ctx, dst, unknown) {
			st.mountFrom[d] = from
		}
	}
	return st, nil
}

// surveyTags returns the digest each environment tag names in dst now
// (absent tags are missing from the map).
func (e *Engine) surveyTags(ctx context.Context, dst name.Repository, tags []string) (map[string]v1.Hash, error) {
	out := map[string]v1.Hash{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	for _, t := range tags {
		tag, err := e.reg.Tag(dst, t)
		if err != nil {
			return nil, err
		}
		g.Go(func() error {
			d, err := e.rd.Head(gctx, tag)
			if err != nil || d == nil {
				return err
			}
			mu.Lock()
			out[t] = d.Digest
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("checking tags in %s: %w", dst, err)
	}
	return out, nil
}
