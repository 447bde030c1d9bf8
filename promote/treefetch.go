package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/registry"
)

// fetcher walks a source repository. Every distinct digest becomes one node,
// fetched once, with its referrers and cosign tags looked up once; the count
// and total size of the manifests and the count of their blobs are bounded
// by the configured limits, and a bound is checked before the requests it
// would allow are made.
type fetcher struct {
	reg   reader
	repo  name.Repository
	root  v1.Hash
	lim   config.Limits
	sem   chan struct{}
	mu    sync.Mutex
	nodes map[v1.Hash]*node // every manifest claimed so far
	blobs map[v1.Hash]bool  // every blob listed so far
	bytes int64
	edges []referrerEdge // referrers as the API listed them, checked once all are built
	// attached fetches what is attached to the tree (referrers and cosign
	// tags, and what those list) beside the content; its context ends when
	// either fails.
	attached *errgroup.Group
	ctx      context.Context
	stop     context.CancelFunc
}

// referrerEdge is one referrer the referrers API listed under subject.
type referrerEdge struct {
	subject v1.Hash
	n       *node
}

// startTree fetches the content of root's tree (root and the manifests its
// indexes list, nested) and returns once it is there, with what is attached
// to it (referrers and cosign tags, looked up beside each manifest) still
// on its way: finish waits for that. The gates' configs can be read in the
// meantime. On error nothing is left running.
func (e *Engine) startTree(ctx context.Context, repo name.Repository, root *registry.Manifest) (*fetcher, *node, error) {
	f := &fetcher{reg: e.rd, repo: repo, root: root.Digest, lim: e.cfg.Limits.WithDefaults(),
		sem: make(chan struct{}, e.reg.Lookups()), nodes: map[v1.Hash]*node{}, blobs: map[v1.Hash]bool{}}
	ctx, f.stop = context.WithCancel(ctx)
	f.attached, f.ctx = errgroup.WithContext(ctx)
	n := &node{ready: make(chan struct{})}
	f.nodes[root.Digest] = n
	err := f.count(root)
	if err == nil {
		err = f.build(f.ctx, n, root, nil, place{1, 0, contentTypes}, true)
	}
	built(n, err)
	if err != nil {
		f.stop()
		if aerr := f.attached.Wait(); aerr != nil && !errors.Is(aerr, context.Canceled) {
			err = aerr // the content stopped because an attachment failed first
		}
		return nil, nil, err
	}
	return f, n, nil
}

// size is the size of the manifests fetched so far.
func (f *fetcher) size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bytes
}

// finish waits for the attachments of the tree rooted at n, then checks
// the whole tree: every referrer names its subject, and no index nests
// past the limit. It returns the total size of the tree's manifests.
func (f *fetcher) finish(n *node) (int64, error) {
	defer f.stop()
	if err := f.attached.Wait(); err != nil {
		return 0, err
	}
	for _, e := range f.edges {
		if e.n.subject == nil || *e.n.subject != e.subject {
			got := "no subject"
			if e.n.subject != nil {
				got = "subject " + e.n.subject.String()
			}
			return 0, f.refuse("the registry lists %s as a referrer of %s, but the manifest has %s", e.n.m.Digest, e.subject, got)
		}
	}
	memo := map[*node]int{}
	for _, x := range n.order() { // attachments' indexes too
		if d := indexDepth(x, memo); d > f.lim.MaxIndexDepth {
			return 0, f.refuse("indexes nest %d deep, more than limits.maxIndexDepth %d; flatten the index or raise the limit in environments.yaml", d, f.lim.MaxIndexDepth)
		}
	}
	return f.size(), nil
}

// place is where a manifest sits in the tree: level is its index nesting
// level (the subject is 1), depth counts referrer hops, allowed is the
// media types it may have there.
type place struct {
	level, depth int
	allowed      []types.MediaType
}

// build fills n from m, found at place at (desc is the index entry that
// listed it, if any): its blobs, then, concurrently, its index children
// with their referrers, its image config when it is content, and, with
// withRefs, its own referrers (a parent looks up its children's referrers
// beside their manifests, so withRefs is false for them).
func (f *fetcher) build(ctx context.Context, n *node, m *registry.Manifest, desc *v1.Descriptor, at place, withRefs bool) error {
	level, depth, allowed := at.level, at.depth, at.allowed
	p, err := f.check(m, desc, allowed)
	if err != nil {
		return err
	}
	n.m = m
	if desc != nil {
		n.platform, n.annot = desc.Platform, desc.Annotations
	}
	if p.Subject != nil {
		n.subject = &p.Subject.Digest
	}
	if p.Config != nil {
		n.blobs = append(n.blobs, *p.Config)
	}
	n.blobs = append(n.blobs, p.Layers...)
	n.blobs = append(n.blobs, p.Blobs...)
	n.layers = p.Layers
	if err := f.countBlobs(n.blobs); err != nil {
		return err
	}
	if m.Type.IsIndex() && level > f.lim.MaxIndexDepth {
		return f.refuse("index %s nests %d deep, more than limits.maxIndexDepth %d; flatten the index or raise the limit in environments.yaml", m.Digest, level, f.lim.MaxIndexDepth)
	}
	children, fresh, err := f.claim(p.Manifests, !slices.Equal(allowed, contentTypes))
	if err != nil {
		return err
	}
	n.children, n.entries = children, p.Manifests
	g, gctx := errgroup.WithContext(ctx)
	for i, c := range fresh {
		if c == nil {
			continue
		}
		d := p.Manifests[i]
		g.Go(func() error {
			cm, err := f.get(gctx, f.repo.Digest(d.Digest.String()))
			if err != nil {
				return built(c, fmt.Errorf("index %s: child %s: %w", m.Digest, d.Digest, err))
			}
			return built(c, f.build(gctx, c, cm, &d, place{level + 1, depth, allowed}, false))
		})
		f.attach(c, d.Digest, depth) // beside the child's manifest, not after it
	}
	if withRefs {
		f.attach(n, m.Digest, depth)
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// A child another path claimed first (a sibling's entry, or a referrer
	// of another manifest) is built there: the walk is done when it is.
	for i, c := range children {
		if fresh[i] != nil {
			continue
		}
		select {
		case <-c.ready:
			if c.err != nil {
				return c.err // the path that built it failed: so does the content
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// attach looks up, in the background (f.attached), what is attached to
// the manifest d of node n, within the depth referrers may nest.
func (f *fetcher) attach(n *node, d v1.Hash, depth int) {
	if depth > maxReferrerDepth {
		return
	}
	f.attached.Go(func() error {
		refs, err := f.referrers(f.ctx, d, depth)
		f.mu.Lock()
		n.referrers = refs
		f.mu.Unlock()
		return err
	})
}

// claim returns the node of each descriptor, in order, and, at the same
// index, the nodes this caller must build (nil where another caller builds
// it: a digest listed twice, or already in the tree). It refuses the whole
// list when its new digests would pass limits.maxManifests.
func (f *fetcher) claim(ds []v1.Descriptor, attached bool) (all, fresh []*node, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all, fresh = make([]*node, len(ds)), make([]*node, len(ds))
	added := 0
	for i, d := range ds {
		if n, ok := f.nodes[d.Digest]; ok {
			all[i] = n
			continue
		}
		n := &node{attached: attached, ready: make(chan struct{})}
		f.nodes[d.Digest] = n
		all[i], fresh[i] = n, n
		added++
	}
	if len(f.nodes) > f.lim.MaxManifests {
		return nil, nil, f.refuse("it holds more than limits.maxManifests %d distinct manifests (%d more listed at once); a real image needs far fewer, raise the limit in environments.yaml only for a tree you trust", f.lim.MaxManifests, added)
	}
	return all, fresh, nil
}

// count adds m's size to the tree's total and refuses past
// limits.maxManifestBytes.
func (f *fetcher) count(m *registry.Manifest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bytes += int64(len(m.Raw))
	if f.bytes > f.lim.MaxManifestBytes {
		return f.refuse("its manifests exceed limits.maxManifestBytes %d bytes; raise the limit in environments.yaml only for a tree you trust", f.lim.MaxManifestBytes)
	}
	return nil
}

// countBlobs adds the blobs of one manifest to the tree's distinct blobs
// and refuses past limits.maxBlobs: each is asked of the target before the
// copy, so the bound also bounds those requests.
func (f *fetcher) countBlobs(ds []v1.Descriptor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range ds {
		f.blobs[d.Digest] = true
	}
	if len(f.blobs) > f.lim.MaxBlobs {
		return f.refuse("it lists more than limits.maxBlobs %d distinct blobs; raise the limit in environments.yaml only for a tree you trust", f.lim.MaxBlobs)
	}
	return nil
}

func (f *fetcher) refuse(format string, a ...any) error {
	return &TreeError{Digest: f.root, Problem: fmt.Sprintf(format, a...)}
}

// get fetches the manifest ref names, within the bound on concurrent
// requests, and counts it against limits.maxManifestBytes.
func (f *fetcher) get(ctx context.Context, ref name.Reference) (*registry.Manifest, error) {
	if err := f.acquire(ctx); err != nil {
		return nil, err
	}
	m, err := f.reg.Get(ctx, ref)
	<-f.sem
	if err != nil {
		return nil, err
	}
	return m, f.count(m)
}

// listReferrers lists the referrers of d, within the same bound on
// concurrent requests as the manifest fetches.
func (f *fetcher) listReferrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error) {
	if err := f.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-f.sem }()
	return f.reg.Referrers(ctx, f.repo, d)
}

func (f *fetcher) acquire(ctx context.Context) error {
	select {
	case f.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// indexDepth is the deepest nesting of indexes at or below n (0 for an
// image), each node measured once.
func indexDepth(n *node, memo map[*node]int) int {
	if d, ok := memo[n]; ok {
		return d
	}
	memo[n] = 0 // a cycle (impossible by content addressing) ends here
	d := 0
	for _, c := range n.children {
		d = max(d, indexDepth(c, memo))
	}
	if n.m.Type.IsIndex() {
		d++
	}
	memo[n] = d
	return d
}
