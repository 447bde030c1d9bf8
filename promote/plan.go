package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Step actions.
const (
	ActCopy     = "copy"     // stream from source to target
	ActMount    = "mount"    // cross-repository mount on one registry
	ActPresent  = "present"  // the target already has it
	ActWrite    = "write"    // write a manifest or tag
	ActMove     = "move"     // a mutable tag moves from another digest
	ActConflict = "conflict" // an immutable tag names another digest
)

// BlobStep is one blob the target needs.
type BlobStep struct {
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType,omitempty"`
	Action    string          `json:"action"`
	// From is the repository a mount comes from, when not the source's.
	From string `json:"from,omitempty"`
}

// ManifestStep is one manifest, in write order.
type ManifestStep struct {
	Digest    v1.Hash         `json:"digest"`
	MediaType types.MediaType `json:"mediaType"`
	Role      string          `json:"role"` // subject | child | referrer
	Tag       string          `json:"tag,omitempty"`
	Action    string          `json:"action"`
	node      *node
}

// TagStep is one environment tag.
type TagStep struct {
	Tag     string `json:"tag"`
	Current string `json:"current,omitempty"` // digest the tag names in the target now
	Action  string `json:"action"`
}

// Plan is what a promotion will do to the target, as data. A dry run prints
// it; execution follows it in order.
type Plan struct {
	Source    string         `json:"source"`
	Target    string         `json:"target"`
	Digest    v1.Hash        `json:"digest"`
	Blobs     []BlobStep     `json:"blobs"`
	Manifests []ManifestStep `json:"manifests"`
	Tags      []TagStep      `json:"tags"`
}

// Bytes is the number of blob bytes the plan streams (mounts and present blobs excluded).
func (p *Plan) Bytes() int64 {
	var n int64
	for _, b := range p.Blobs {
		if b.Action == ActCopy {
			n += b.Size
		}
	}
	return n
}

// Conflicts returns the tag steps an immutable environment refuses.
func (p *Plan) Conflicts() []TagStep {
	var out []TagStep
	for _, t := range p.Tags {
		if t.Action == ActConflict {
			out = append(out, t)
		}
	}
	return out
}

// Complete reports whether the target already holds everything: nothing to copy or tag.
func (p *Plan) Complete() bool {
	for _, m := range p.Manifests {
		if m.Action != ActPresent {
			return false
		}
	}
	for _, t := range p.Tags {
		if t.Action != ActPresent {
			return false
		}
	}
	return true
}

// targetState is what the target holds, gathered before planning.
type targetState struct {
	manifests map[v1.Hash]bool   // present by digest
	attach    map[string]v1.Hash // legacy attachment tag -> digest it names
	blobs     map[v1.Hash]bool
	mountFrom map[v1.Hash]string // missing blob -> repository on the target registry that held it
	tags      map[string]v1.Hash // environment tag -> digest it names (absent = missing)
}

// survey asks the target what it holds. A manifest the target has implies
// its blobs (registries refuse a manifest whose blobs are missing), so blobs
// are checked only for missing manifests.
func (e *Engine) survey(ctx context.Context, src, dst name.Repository, root *node, tags []string) (*targetState, error) {
	st := &targetState{manifests: map[v1.Hash]bool{}, attach: map[string]v1.Hash{}, blobs: map[v1.Hash]bool{}, tags: map[string]v1.Hash{}}
	var mu sync.Mutex
	var err error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	head := func(ref name.Reference, set func(v1.Hash)) {
		g.Go(func() error {
			d, err := e.reg.Head(gctx, ref)
			if err != nil || d == nil {
				return err
			}
			mu.Lock()
			set(d.Digest)
			mu.Unlock()
			return nil
		})
	}
	nodes := root.order()
	for _, n := range nodes {
		head(dst.Digest(n.m.Digest.String()), func(v1.Hash) { st.manifests[n.m.Digest] = true })
		if n.tag != "" {
			head(dst.Tag(n.tag), func(d v1.Hash) { st.attach[n.tag] = d })
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("surveying %s: %w", dst, err)
	}
	if st.tags, err = e.surveyTags(ctx, dst, tags); err != nil {
		return nil, err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	asked := map[v1.Hash]bool{}
	for _, n := range nodes {
		if st.manifests[n.m.Digest] {
			continue
		}
		for _, b := range n.blobs {
			if asked[b.Digest] {
				continue
			}
			asked[b.Digest] = true
			g.Go(func() error {
				ok, err := e.reg.BlobExists(gctx, dst, b.Digest)
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
		for _, b := range n.blobs {
			if !asked[b.Digest] || st.blobs[b.Digest] {
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
			d, err := e.reg.Head(gctx, tag)
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

// decide is the pure half of planning: given the tree, what the target holds
// and the tag policy, it says what to copy, write, skip or refuse.
func decide(src, dst name.Repository, root *node, st *targetState, tags []string, immutable bool) *Plan {
	p := &Plan{Source: src.Digest(root.m.Digest.String()).String(), Target: dst.Name(), Digest: root.m.Digest}
	blobSeen := map[v1.Hash]bool{}
	sameRegistry := src.RegistryStr() == dst.RegistryStr()
	roles := map[*node]string{root: "subject"}
	for _, n := range root.order() {
		role := roles[n]
		if role == "" {
			role = "child"
		}
		for _, r := range n.referrers {
			markRole(r, roles)
		}
		act := ActWrite
		if st.manifests[n.m.Digest] && (n.tag == "" || st.attach[n.tag] == n.m.Digest) {
			act = ActPresent
		}
		p.Manifests = append(p.Manifests, ManifestStep{Digest: n.m.Digest, MediaType: n.m.Type, Role: role, Tag: n.tag, Action: act, node: n})
		if st.manifests[n.m.Digest] {
			continue
		}
		for _, b := range n.blobs {
			if blobSeen[b.Digest] {
				continue
			}
			blobSeen[b.Digest] = true
			step := BlobStep{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType, Action: ActCopy}
			switch {
			case st.blobs[b.Digest]:
				step.Action = ActPresent
			case sameRegistry:
				step.Action = ActMount
			case st.mountFrom[b.Digest] != "":
				step.Action, step.From = ActMount, dst.Registry.RegistryStr()+"/"+st.mountFrom[b.Digest]
			}
			p.Blobs = append(p.Blobs, step)
		}
	}
	for _, t := range tags {
		cur, ok := st.tags[t]
		ts := TagStep{Tag: t, Action: ActWrite}
		switch {
		case !ok:
		case cur == root.m.Digest:
			ts.Action, ts.Current = ActPresent, cur.String()
		case immutable:
			ts.Action, ts.Current = ActConflict, cur.String()
		default:
			ts.Action, ts.Current = ActMove, cur.String()
		}
		p.Tags = append(p.Tags, ts)
	}
	return p
}

// markRole marks n and everything under it as a referrer, each node once
// (a hostile index may list one index many times at every level).
func markRole(n *node, roles map[*node]string) {
	if roles[n] == "referrer" {
		return
	}
	roles[n] = "referrer"
	for _, c := range n.children {
		markRole(c, roles)
	}
}
