package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/registry"
)

// referrers finds what is attached to d: the referrers API (or its tag
// schema) and cosign's legacy sha256-<hex>.{sig,att,sbom} tags. A referrer
// already in the tree is linked, not fetched again; every one the API lists
// must name d as its subject, which finish checks once all are built.
func (f *fetcher) referrers(ctx context.Context, d v1.Hash, depth int) ([]*node, error) {
	// The listing and the three tags are independent: one round trip.
	var descs []v1.Descriptor
	tagged := make([]*registry.Manifest, len(registry.CosignSuffixes))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		descs, err = f.listReferrers(gctx, d)
		return err
	})
	for i, suffix := range registry.CosignSuffixes {
		tag := registry.AttachmentTag(d, suffix)
		g.Go(func() error {
			rm, err := f.get(gctx, f.repo.Tag(tag))
			switch {
			case isNotFound(err):
				return nil
			case err != nil:
				return fmt.Errorf("cosign attachment %s: %w", tag, err)
			}
			tagged[i] = rm
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Claims go in a fixed order (the listing, then the tags in turn), so
	// the tree is the same however the answers raced; what is fresh is
	// fetched and built concurrently.
	all, fresh, err := f.claim(descs, true)
	if err != nil {
		return nil, err
	}
	out := uniqueNodes(all)
	f.mu.Lock()
	for _, rn := range out {
		f.edges = append(f.edges, referrerEdge{subject: d, n: rn})
	}
	f.mu.Unlock()
	g, gctx = errgroup.WithContext(ctx)
	for i, rn := range fresh {
		if rn == nil {
			continue
		}
		rd := descs[i]
		g.Go(func() error {
			rm, err := f.get(gctx, f.repo.Digest(rd.Digest.String()))
			if err != nil {
				return built(rn, fmt.Errorf("referrer %s of %s: %w", rd.Digest, d, err))
			}
			return built(rn, f.build(gctx, rn, rm, nil, place{1, depth + 1, referrerTypes}, true))
		})
	}
	for i, suffix := range registry.CosignSuffixes {
		if tagged[i] == nil {
			continue
		}
		rn, build, err := f.claimTag(registry.AttachmentTag(d, suffix), tagged[i])
		if err != nil {
			return nil, errors.Join(err, g.Wait())
		}
		out = append(out, rn)
		if build {
			g.Go(func() error {
				return built(rn, f.build(gctx, rn, tagged[i], nil, place{1, depth + 1, referrerTypes}, true))
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// claimTag makes the node of rm, fetched by a cosign tag, and says whether
// the caller must build it. The same attachment may live under two tags
// (cosign attach sbom with one file on an index and on a platform): the
// second is a leaf that writes the tag again. A tag naming content of the
// tree is refused.
func (f *fetcher) claimTag(tag string, rm *registry.Manifest) (*node, bool, error) {
	all, fresh, err := f.claim([]v1.Descriptor{rm.Descriptor()}, true)
	if err != nil {
		return nil, false, err
	}
	rn := all[0]
	if fresh[0] != nil {
		rn.tag = tag
		return rn, true, nil
	}
	f.mu.Lock()
	attached := rn.attached
	f.mu.Unlock()
	if !attached {
		return nil, false, f.refuse("cosign tag %s names %s, a manifest of the promoted content; an attachment tag must name a signature, attestation or SBOM", tag, rm.Digest)
	}
	p, err := f.check(rm, nil, attachmentLeafTypes)
	if err != nil {
		return nil, false, err
	}
	alias := &node{m: rm, tag: tag, attached: true, layers: p.Layers}
	if p.Config != nil {
		alias.blobs = append(alias.blobs, *p.Config)
	}
	alias.blobs = append(alias.blobs, p.Layers...)
	alias.blobs = append(alias.blobs, p.Blobs...)
	return alias, false, nil
}

// uniqueNodes drops repeats, keeping the first of each.
func uniqueNodes(ns []*node) []*node {
	seen := map[*node]bool{}
	out := ns[:0:0]
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// check parses m and refuses what cannot be judged: a media type outside
// allowed, a descriptor or body that names another type than the registry
// served, an index with layers or an image with index entries, and a
// referrer that carries filesystem layers (a runnable image would be copied
// unjudged).
func (f *fetcher) check(m *registry.Manifest, desc *v1.Descriptor, allowed []types.MediaType) (*parsed, error) {
	p, err := parseManifest(m)
	if err != nil {
		return nil, f.refuse("%v", err)
	}
	switch {
	case !slices.Contains(allowed, m.Type):
		return nil, f.refuse("manifest %s has media type %q, which promote does not judge; expected one of %v", m.Digest, m.Type, allowed)
	case p.MediaType != "" && p.MediaType != m.Type:
		return nil, f.refuse("manifest %s is served as %q but says it is %q", m.Digest, m.Type, p.MediaType)
	case desc != nil && desc.MediaType != "" && desc.MediaType != m.Type:
		return nil, f.refuse("manifest %s is listed as %q but served as %q", m.Digest, desc.MediaType, m.Type)
	case m.Type.IsIndex() && (p.Config != nil || len(p.Layers) > 0 || len(p.Blobs) > 0):
		return nil, f.refuse("index %s also has a config or layers; an index lists manifests only", m.Digest)
	case !m.Type.IsIndex() && len(p.Manifests) > 0:
		return nil, f.refuse("image manifest %s also lists manifests; only an index may", m.Digest)
	}
	if !slices.Equal(allowed, contentTypes) && runnable(p) {
		return nil, f.refuse("attachment %s is a runnable image (an image config and a filesystem layer) that no gate judges; push it as an image, not an attachment", m.Digest)
	}
	return p, nil
}

// runnable reports whether a manifest could run as a container: a config a
// runtime reads as an image config (or one it does not type) and a layer of
// a type some runtime unpacks. Runtimes are looser than the OCI list
// (containerd takes any vnd.oci.image.layer and vnd.docker.image.rootfs
// type; Docker's puller lower-cases and takes untyped layers), so the test
// is by prefix and without case.
func runnable(p *parsed) bool {
	if p.Config == nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(string(p.Config.MediaType))) {
	case "application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json", "", "application/octet-stream":
	default:
		return false
	}
	for _, l := range p.Layers {
		switch mt := strings.ToLower(strings.TrimSpace(string(l.MediaType))); {
		case mt == "", mt == "application/octet-stream",
			strings.HasPrefix(mt, "application/vnd.oci.image."),
			strings.HasPrefix(mt, "application/vnd.docker."):
			return true
		}
	}
	return false
}
