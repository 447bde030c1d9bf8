package promote

import (
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// wantTags is the environment tags a promotion writes, and whether the
// environment keeps its tags where they first point (immutable).
type wantTags struct {
	tags      []string
	immutable bool
}

// decide is the pure half of planning: given the tree, what the target holds
// and the tags wanted, it says what to copy, write, skip or refuse.
func decide(src, dst name.Repository, root *node, st *targetState, want wantTags) *Plan {
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
	for _, t := range want.tags {
		cur, ok := st.tags[t]
		ts := TagStep{Tag: t, Action: ActWrite}
		switch {
		case !ok:
		case cur == root.m.Digest:
			ts.Action, ts.Current = ActPresent, cur.String()
		case want.immutable:
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
