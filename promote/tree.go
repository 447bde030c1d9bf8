package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/registry"
)

// node is one manifest of what a promotion moves: the subject, its index
// children, and the referrers attached to either (signatures, SBOMs,
// attestations), each fetched once from the source repository.
type node struct {
	m         *registry.Manifest
	platform  *v1.Platform // from the parent index's descriptor
	annot     map[string]string
	blobs     []v1.Descriptor // config and layers of an image manifest
	children  []*node
	referrers []*node
	tag       string // legacy cosign attachment tag (sha256-<hex>.sig) it lives under, if any
}

// maxReferrerDepth bounds the search for referrers: those of the subject
// and its children (depth 0) and of those referrers (depth 1: a signature
// on an SBOM).
const maxReferrerDepth = 1

// parsed is the part of any manifest or index the engine reads.
type parsed struct {
	MediaType    types.MediaType `json:"mediaType"`
	Config       *v1.Descriptor  `json:"config"`
	Layers       []v1.Descriptor `json:"layers"`
	Manifests    []v1.Descriptor `json:"manifests"`
	Subject      *v1.Descriptor  `json:"subject"`
	ArtifactType string          `json:"artifactType"`
	Blobs        []v1.Descriptor `json:"blobs"` // artifact manifests (OCI 1.1 draft)
	Schema       int             `json:"schemaVersion"`
}

func parseManifest(m *registry.Manifest) (*parsed, error) {
	var p parsed
	if err := json.Unmarshal(m.Raw, &p); err != nil {
		return nil, fmt.Errorf("manifest %s is not valid JSON: %w", m.Digest, err)
	}
	if p.Schema == 1 || m.Type == types.DockerManifestSchema1 || m.Type == types.DockerManifestSchema1Signed {
		return nil, fmt.Errorf("manifest %s is Docker schema 1, which cannot be promoted by digest; rebuild the image", m.Digest)
	}
	return &p, nil
}

// fetcher walks a source repository, fetching every manifest once.
type fetcher struct {
	reg  *registry.Client
	repo name.Repository
	sem  chan struct{}
	mu   sync.Mutex
	seen map[v1.Hash]bool
}

func (e *Engine) fetchTree(ctx context.Context, repo name.Repository, root *registry.Manifest) (*node, error) {
	f := &fetcher{reg: e.reg, repo: repo, sem: make(chan struct{}, e.reg.Jobs()), seen: map[v1.Hash]bool{}}
	return f.build(ctx, root, nil, 0)
}

func (f *fetcher) build(ctx context.Context, m *registry.Manifest, desc *v1.Descriptor, depth int) (*node, error) {
	p, err := parseManifest(m)
	if err != nil {
		return nil, err
	}
	n := &node{m: m}
	if desc != nil {
		n.platform, n.annot = desc.Platform, desc.Annotations
	}
	if p.Config != nil {
		n.blobs = append(n.blobs, *p.Config)
	}
	n.blobs = append(n.blobs, p.Layers...)
	n.blobs = append(n.blobs, p.Blobs...)

	g, gctx := errgroup.WithContext(ctx)
	children := make([]*node, len(p.Manifests))
	for i := range p.Manifests {
		d := p.Manifests[i]
		g.Go(func() error {
			cm, err := f.get(gctx, f.repo.Digest(d.Digest.String()))
			if err != nil {
				return fmt.Errorf("index %s: child %s: %w", m.Digest, d.Digest, err)
			}
			c, err := f.build(gctx, cm, &d, depth)
			children[i] = c
			return err
		})
	}
	var refs []*node
	if depth <= maxReferrerDepth {
		g.Go(func() error {
			var err error
			refs, err = f.referrers(gctx, m.Digest, depth)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n.children, n.referrers = children, refs
	return n, nil
}

func (f *fetcher) get(ctx context.Context, ref name.Reference) (*registry.Manifest, error) {
	select {
	case f.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.sem }()
	return f.reg.Get(ctx, ref)
}

// referrers finds what is attached to d: the referrers API (or its tag
// schema) and cosign's legacy sha256-<hex>.{sig,att,sbom} tags.
func (f *fetcher) referrers(ctx context.Context, d v1.Hash, depth int) ([]*node, error) {
	descs, err := f.reg.Referrers(ctx, f.repo, d)
	if err != nil {
		return nil, err
	}
	var out []*node
	for _, rd := range descs {
		if !f.first(rd.Digest) {
			continue
		}
		rm, err := f.get(ctx, f.repo.Digest(rd.Digest.String()))
		if err != nil {
			return nil, fmt.Errorf("referrer %s of %s: %w", rd.Digest, d, err)
		}
		rn, err := f.build(ctx, rm, nil, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, rn)
	}
	for _, suffix := range registry.CosignSuffixes {
		tag := registry.AttachmentTag(d, suffix)
		rm, err := f.get(ctx, f.repo.Tag(tag))
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("cosign attachment %s: %w", tag, err)
		}
		rn, err := f.build(ctx, rm, nil, depth+1)
		if err != nil {
			return nil, err
		}
		rn.tag = tag
		out = append(out, rn)
	}
	return out, nil
}

func (f *fetcher) first(d v1.Hash) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[d] {
		return false
	}
	f.seen[d] = true
	return true
}

// order lists the manifests in the order they are written: the content
// first (index children before their index), then the referrers, each one
// after its subject.
func (n *node) order() []*node {
	var content, refs []*node
	var post func(x *node, into *[]*node)
	post = func(x *node, into *[]*node) {
		for _, c := range x.children {
			post(c, into)
		}
		*into = append(*into, x)
	}
	post(n, &content)
	queue := append([]*node{}, content...)
	for i := 0; i < len(queue); i++ {
		for _, r := range queue[i].referrers {
			var sub []*node
			post(r, &sub)
			refs = append(refs, sub...)
			queue = append(queue, sub...)
		}
	}
	return append(content, refs...)
}
