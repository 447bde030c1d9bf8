package promote

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/registry"
)

// dh is the digest of s: distinct names, distinct digests.
func dh(s string) v1.Hash {
	h, _, err := v1.SHA256(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return h
}

func blobOf(s string, size int64) v1.Descriptor {
	return v1.Descriptor{Digest: dh(s), Size: size, MediaType: types.OCILayer}
}

func imageNode(s string, blobs ...v1.Descriptor) *node {
	return &node{m: &registry.Manifest{Digest: dh(s), Type: types.OCIManifestSchema1}, blobs: blobs}
}

func indexNode(s string, children ...*node) *node {
	return &node{m: &registry.Manifest{Digest: dh(s), Type: types.OCIImageIndex}, children: children}
}

func emptyState() *targetState {
	return &targetState{manifests: map[v1.Hash]bool{}, attach: map[string]v1.Hash{}, blobs: map[v1.Hash]bool{},
		mountFrom: map[v1.Hash]string{}, tags: map[string]v1.Hash{}}
}

var (
	srcRepo   = name.MustParseReference("src.example/dev/web:x").Context()
	dstRepo   = name.MustParseReference("dst.example/test/web:x").Context()
	localRepo = name.MustParseReference("src.example/test/web:x").Context() // the source's registry
)

func manifestStep(n *node, role, act string) ManifestStep {
	return ManifestStep{Digest: n.m.Digest, MediaType: n.m.Type, Role: role, Tag: n.tag, Action: act, node: n}
}

func blobStep(d v1.Descriptor, act, from string) BlobStep {
	return BlobStep{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, Action: act, From: from}
}

// decideCase is one planning question: the inputs of decide and the plan it must return.
type decideCase struct {
	name      string
	dst       name.Repository
	root      *node
	st        *targetState
	tags      []string
	immutable bool
	manifests []ManifestStep
	blobs     []BlobStep
	tagSteps  []TagStep
	complete  bool
	conflicts []TagStep
}

func TestDecide(t *testing.T) {
	var cases []decideCase
	add := func(c decideCase) { cases = append(cases, c) }

	cfg, l1, l2 := blobOf("cfg", 10), blobOf("l1", 100), blobOf("l2", 200)
	fresh := imageNode("fresh", cfg, l1, l2)
	add(decideCase{name: "fresh single image", dst: dstRepo, root: fresh, st: emptyState(), tags: []string{"1.0"}, immutable: true,
		manifests: []ManifestStep{manifestStep(fresh, "subject", ActWrite)},
		blobs:     []BlobStep{blobStep(cfg, ActCopy, ""), blobStep(l1, ActCopy, ""), blobStep(l2, ActCopy, "")},
		tagSteps:  []TagStep{{Tag: "1.0", Action: ActWrite}}})

	held := imageNode("held", cfg, l1)
	st := emptyState()
	st.manifests[held.m.Digest], st.tags["1.0"] = true, held.m.Digest
	add(decideCase{name: "everything present", dst: dstRepo, root: held, st: st, tags: []string{"1.0"}, immutable: true,
		manifests: []ManifestStep{manifestStep(held, "subject", ActPresent)},
		tagSteps:  []TagStep{{Tag: "1.0", Current: held.m.Digest.String(), Action: ActPresent}}, complete: true})

	base := blobOf("base", 1000)
	amd, arm := imageNode("amd64", blobOf("cfg-amd", 1), base), imageNode("arm64", blobOf("cfg-arm", 2), base, blobOf("arm-top", 3))
	ix := indexNode("index", amd, arm)
	st = emptyState()
	st.manifests[amd.m.Digest], st.blobs[base.Digest] = true, true
	add(decideCase{name: "index whose target holds one child", dst: dstRepo, root: ix, st: st,
		manifests: []ManifestStep{manifestStep(amd, "child", ActPresent), manifestStep(arm, "child", ActWrite), manifestStep(ix, "subject", ActWrite)},
		blobs:     []BlobStep{blobStep(arm.blobs[0], ActCopy, ""), blobStep(base, ActPresent, ""), blobStep(arm.blobs[2], ActCopy, "")}})

	have, remembered, none := blobOf("have", 5), blobOf("remembered", 50), blobOf("none", 500)
	mixed := imageNode("mixed", have, remembered, none)
	st = emptyState()
	st.blobs[have.Digest], st.mountFrom[remembered.Digest] = true, "other/web"
	add(decideCase{name: "blobs present, mounted from a remembered repository, copied", dst: dstRepo, root: mixed, st: st,
		manifests: []ManifestStep{manifestStep(mixed, "subject", ActWrite)},
		blobs: []BlobStep{blobStep(have, ActPresent, ""), blobStep(remembered, ActMount, "dst.example/other/web"),
			blobStep(none, ActCopy, "")}})
	add(decideCase{name: "one registry: missing blobs mount from the source", dst: localRepo, root: mixed, st: st,
		manifests: []ManifestStep{manifestStep(mixed, "subject", ActWrite)},
		blobs:     []BlobStep{blobStep(have, ActPresent, ""), blobStep(remembered, ActMount, ""), blobStep(none, ActMount, "")}})

	subj := imageNode("signed", cfg)
	sig, sbom := imageNode("sig", blobOf("sig-cfg", 7)), indexNode("sbom", imageNode("sbom-part", blobOf("sbom-cfg", 8)))
	sig.tag, sbom.tag = "sha256-"+subj.m.Digest.Hex+".sig", "sha256-"+subj.m.Digest.Hex+".sbom"
	subj.referrers = []*node{sig, sbom}
	st = emptyState()
	st.manifests[subj.m.Digest], st.manifests[sig.m.Digest], st.manifests[sbom.m.Digest] = true, true, true
	st.attach[sig.tag], st.attach[sbom.tag] = sig.m.Digest, dh("someone else's sbom")
	add(decideCase{name: "attachment tags present and naming another digest", dst: dstRepo, root: subj, st: st,
		manifests: []ManifestStep{manifestStep(subj, "subject", ActPresent), manifestStep(sig, "referrer", ActPresent),
			manifestStep(sbom.children[0], "referrer", ActWrite), manifestStep(sbom, "referrer", ActWrite)},
		blobs: []BlobStep{blobStep(sbom.children[0].blobs[0], ActCopy, "")}})

	tagged := imageNode("tagged", cfg)
	st = emptyState()
	st.manifests[tagged.m.Digest] = true
	st.tags["same"], st.tags["other"] = tagged.m.Digest, dh("older")
	older := dh("older").String()
	add(decideCase{name: "tags in an immutable environment", dst: dstRepo, root: tagged, st: st, tags: []string{"new", "same", "other"}, immutable: true,
		manifests: []ManifestStep{manifestStep(tagged, "subject", ActPresent)},
		tagSteps: []TagStep{{Tag: "new", Action: ActWrite}, {Tag: "same", Current: tagged.m.Digest.String(), Action: ActPresent},
			{Tag: "other", Current: older, Action: ActConflict}},
		conflicts: []TagStep{{Tag: "other", Current: older, Action: ActConflict}}})
	add(decideCase{name: "tags in a mutable environment", dst: dstRepo, root: tagged, st: st, tags: []string{"same", "other"},
		manifests: []ManifestStep{manifestStep(tagged, "subject", ActPresent)},
		tagSteps:  []TagStep{{Tag: "same", Current: tagged.m.Digest.String(), Action: ActPresent}, {Tag: "other", Current: older, Action: ActMove}}})

	shared := imageNode("shared", blobOf("shared-cfg", 4), base)
	other := imageNode("other", blobOf("other-cfg", 6), base)
	twice := indexNode("twice", shared, other, shared)
	add(decideCase{name: "a digest listed twice is one step, its blobs once", dst: dstRepo, root: twice, st: emptyState(),
		manifests: []ManifestStep{manifestStep(shared, "child", ActWrite), manifestStep(other, "child", ActWrite), manifestStep(twice, "subject", ActWrite)},
		blobs:     []BlobStep{blobStep(shared.blobs[0], ActCopy, ""), blobStep(base, ActCopy, ""), blobStep(other.blobs[0], ActCopy, "")}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := decide(srcRepo, c.dst, c.root, c.st, wantTags{c.tags, c.immutable})
			assert.Equal(t, "src.example/dev/web@"+c.root.m.Digest.String(), p.Source)
			assert.Equal(t, c.dst.Name(), p.Target)
			assert.Equal(t, c.root.m.Digest, p.Digest)
			require.Len(t, p.Manifests, len(c.manifests))
			for i, m := range c.manifests {
				assert.Same(t, m.node, p.Manifests[i].node, "manifest %d", i)
			}
			assert.Equal(t, c.manifests, p.Manifests)
			assert.Equal(t, c.blobs, p.Blobs)
			assert.Equal(t, c.tagSteps, p.Tags)
			assert.Equal(t, c.complete, p.Complete())
			assert.Equal(t, c.conflicts, p.Conflicts())
			var bytes int64
			for _, b := range c.blobs {
				if b.Action == ActCopy {
					bytes += b.Size
				}
			}
			assert.Equal(t, bytes, p.Bytes())
		})
	}
}
