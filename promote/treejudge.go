package promote

import (
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Buildkit's annotations for an attestation manifest in an index.
const (
	annotRefType      = "vnd.docker.reference.type"
	annotRefDigest    = "vnd.docker.reference.digest"
	refTypeAttestaton = "attestation-manifest"
	inTotoLayerType   = "application/vnd.in-toto+json"
)

// images lists every image manifest of the content tree under root that the
// per-image gates must judge, each once, in the order first reached: the
// root itself when it is an image, else every image of every index at every
// nesting level. An index entry is left out only when it is an attestation
// (isAttestation); anything else is judged, so no image a runtime could pick
// escapes. A content manifest of any other type is refused.
func images(root *node) ([]*node, error) {
	var out []*node
	judged := map[*node]bool{}
	walked := map[*node]bool{}
	var walk func(n *node) error
	walk = func(n *node) error {
		switch {
		case slices.Contains(imageTypes, n.m.Type):
			if !judged[n] {
				judged[n] = true
				out = append(out, n)
			}
			return nil
		case !slices.Contains(indexTypes, n.m.Type):
			return &TreeError{Digest: root.m.Digest, Problem: fmt.Sprintf("index entry %s has media type %q, neither an image nor an index", n.m.Digest, n.m.Type)}
		}
		if walked[n] {
			return nil
		}
		walked[n] = true
		siblings := siblingImages(n)
		for i, c := range n.children {
			if isAttestation(n, i, siblings) {
				continue
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &TreeError{Digest: root.m.Digest, Problem: "the index holds no image to judge"}
	}
	return out, nil
}

// isAttestation reports whether entry i of index idx is an attestation
// manifest as buildkit writes one, and nothing else: its descriptor says
// platform unknown/unknown and reference type attestation-manifest, its
// reference digest names a sibling image of the same index that is not
// itself an attestation, and it is an image manifest whose layers are all
// in-toto statements. An annotation alone, which whoever pushes can set,
// does not make an entry one.
func isAttestation(idx *node, i int, siblings map[v1.Hash]bool) bool {
	d, c := idx.entries[i], idx.children[i]
	if !unknownPlatform(d.Platform) || d.Annotations[annotRefType] != refTypeAttestaton {
		return false
	}
	if !slices.Contains(imageTypes, c.m.Type) || len(c.layers) == 0 {
		return false
	}
	for _, l := range c.layers {
		if l.MediaType != inTotoLayerType {
			return false
		}
	}
	target, err := v1.NewHash(d.Annotations[annotRefDigest])
	if err != nil || target == c.m.Digest {
		return false
	}
	return siblings[target]
}

// siblingImages lists the entries of idx an attestation may name: image
// manifests listed for a platform other than unknown/unknown.
func siblingImages(idx *node) map[v1.Hash]bool {
	out := map[v1.Hash]bool{}
	for j, d := range idx.entries {
		if !unknownPlatform(d.Platform) && slices.Contains(imageTypes, idx.children[j].m.Type) {
			out[d.Digest] = true
		}
	}
	return out
}

func unknownPlatform(p *v1.Platform) bool {
	return p != nil && p.OS == "unknown" && p.Architecture == "unknown"
}
