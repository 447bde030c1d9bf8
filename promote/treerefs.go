package promote

import (
	"context"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/promote/registry"
)

// referrers finds what is attached to d: the referrers API (or its tag
// schema) and cosign's legacy sha256-<hex>.{sig,att,sbom} tags. A referrer
// already in the tree is linked, not fetched again; one listed whose
// subject is not d is refused (the registry lies about it).
func (f *fetcher) referrers(ctx context.Context, d v1.Hash, depth int) ([]*node, error) {
	descs, err := f.reg.Referrers(ctx, f.repo, d)
	if err != nil {
		return nil, err
	}
	all, fresh, err := f.claim(descs)
	if err != nil {
		return nil, err
	}
	for i, rn := range fresh {
		if rn == nil {
			continue
		}
		rd := descs[i]
		rm, err := f.get(ctx, f.repo.Digest(rd.Digest.String()))
		if err != nil {
			return nil, fmt.Errorf("referrer %s of %s: %w", rd.Digest, d, err)
		}
		if err := f.count(rm); err != nil {
			return nil, err
		}
		if err := f.checkSubject(rm, d); err != nil {
			return nil, err
		}
		if err := f.build(ctx, rn, rm, nil, 1, depth+1, referrerTypes); err != nil {
			return nil, err
		}
	}
	out := uniqueNodes(all)
	for _, suffix := range registry.CosignSuffixes {
		tag := registry.AttachmentTag(d, suffix)
		rm, err := f.get(ctx, f.repo.Tag(tag))
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("cosign attachment %s: %w", tag, err)
		}
		all, fresh, err := f.claim([]v1.Descriptor{rm.Descriptor()})
		if err != nil {
			return nil, err
		}
		if fresh[0] == nil {
			return nil, f.refuse("cosign tag %s names %s, a manifest already in the tree; an attachment tag must name its own signature, attestation or SBOM", tag, rm.Digest)
		}
		if err := f.count(rm); err != nil {
			return nil, err
		}
		rn := all[0]
		if err := f.build(ctx, rn, rm, nil, 1, depth+1, referrerTypes); err != nil {
			return nil, err
		}
		rn.tag = tag
		out = append(out, rn)
	}
	return out, nil
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

// checkSubject refuses a referrer whose own subject is not d.
func (f *fetcher) checkSubject(rm *registry.Manifest, d v1.Hash) error {
	p, err := parseManifest(rm)
	if err != nil {
		return f.refuse("%v", err)
	}
	if p.Subject == nil || p.Subject.Digest != d {
		got := "no subject"
		if p.Subject != nil {
			got = "subject " + p.Subject.Digest.String()
		}
		return f.refuse("the registry lists %s as a referrer of %s, but the manifest has %s", rm.Digest, d, got)
	}
	return nil
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
	if slices.Equal(allowed, referrerTypes) {
		for _, l := range p.Layers {
			if isFilesystemLayer(l.MediaType) {
				return nil, f.refuse("attachment %s carries a filesystem layer (%s): it is a runnable image that no gate judges; push it as an image, not an attachment", m.Digest, l.MediaType)
			}
		}
	}
	return p, nil
}

// isFilesystemLayer reports whether mt is an image filesystem layer.
func isFilesystemLayer(mt types.MediaType) bool {
	switch mt {
	case types.DockerLayer, types.DockerForeignLayer, types.DockerUncompressedLayer,
		types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}
