package promote

import (
	"context"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/registry"
)

// writeManifests writes the plan's missing manifests by digest (but skip,
// left to the tags), and a
// legacy attachment by its tag (which writes it and tags it at once), in
// waves (manifestWaves):
// each manifest after everything it references, the manifests of one wave
// together. A two-platform index is two round trips, not three.
func (e *Engine) writeManifests(ctx context.Context, dst name.Repository, p *Plan, st *CopyStats, skip *ManifestStep) error {
	var mu sync.Mutex
	for _, wave := range manifestWaves(p.Manifests) {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(e.reg.Lookups())
		for _, m := range wave {
			if m.Action == ActPresent {
				st.ManifestsPresent++
				continue
			}
			if skip != nil && m.Digest == skip.Digest && m.Role == skip.Role {
				continue // written with the first tag
			}
			g.Go(func() error {
				ref := name.Reference(dst.Digest(m.Digest.String()))
				if m.Tag != "" {
					ref = dst.Tag(m.Tag) // one PUT writes the manifest and its tag
				}
				if err := e.wr.Put(gctx, ref, m.node.m); err != nil {
					return err
				}
				mu.Lock()
				st.ManifestsWritten++
				mu.Unlock()
				e.log.Debug("manifest written", "digest", m.Digest, "role", m.Role)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// manifestWaves groups the plan's manifests (in plan order: children
// before their index, each referrer after its subject) so that the write
// order holds with each wave written at once: a manifest comes in a later
// wave than every manifest of the plan it lists (index children) or names
// as its subject, and every referrer after all of the content (invariant
// 5: blobs, child manifests, index, then referrers). Manifests already
// present count as written before the first wave.
func manifestWaves(steps []ManifestStep) [][]ManifestStep {
	wave := map[v1.Hash]int{} // the wave that writes a digest
	after := func(d v1.Hash) int {
		if w, ok := wave[d]; ok {
			return w
		}
		return -1 // present, or not in the plan
	}
	place := func(s ManifestStep, floor int) int {
		if s.Action == ActPresent {
			return 0 // nothing to write; counted with the first wave
		}
		w := max(floor, after(s.Digest)) // a second step of one digest: not before the first
		for _, c := range s.node.children {
			w = max(w, after(c.m.Digest)+1)
		}
		if s.node.subject != nil {
			w = max(w, after(*s.node.subject)+1)
		}
		if d, ok := taggedSubject(s.node.tag); ok { // a cosign tag names what it is attached to
			w = max(w, after(d)+1)
		}
		wave[s.Digest] = max(after(s.Digest), w)
		return w
	}
	levels := make([]int, len(steps))
	contentEnd := 0 // the first wave after all of the content
	for i, s := range steps {
		if s.Role != "referrer" {
			levels[i] = place(s, 0)
			contentEnd = max(contentEnd, after(s.Digest)+1)
		}
	}
	for i, s := range steps {
		if s.Role == "referrer" {
			levels[i] = place(s, contentEnd)
		}
	}
	var out [][]ManifestStep
	for i, s := range steps {
		for len(out) <= levels[i] {
			out = append(out, nil)
		}
		out[levels[i]] = append(out[levels[i]], s)
	}
	return out
}

// taggedSubject is the digest a legacy cosign tag (sha256-<hex>.sig) is
// attached to.
func taggedSubject(tag string) (v1.Hash, bool) {
	if !registry.IsAttachmentTag(tag) {
		return v1.Hash{}, false
	}
	hex, _, _ := strings.Cut(strings.TrimPrefix(tag, "sha256-"), ".")
	d, err := v1.NewHash("sha256:" + hex)
	return d, err == nil
}
