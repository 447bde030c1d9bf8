package promote

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/promote/registry"
)

// Manifests are written in waves, each after all it references: index
// children together, then the index, then the referrers of the content,
// then referrers of referrers; a manifest already present is not waited on.
func TestManifestWavesKeepTheWriteOrder(t *testing.T) {
	n := func(name string, children ...*node) *node {
		return &node{m: &registry.Manifest{Digest: v1.Hash{Algorithm: "sha256", Hex: name}}, children: children}
	}
	on := func(x, subject *node) *node { x.subject = &subject.m.Digest; return x }
	c1, c2, nested := n("c1"), n("c2"), n("n1")
	inner := n("inner", nested)
	index := n("index", c1, c2, inner)
	sig, sbom := on(n("sig"), index), on(n("sbom"), c1)
	sigOfSbom := on(n("sigsbom"), sbom)
	alias := &node{m: sig.m, tag: "sha256-index.sig"}
	step := func(x *node, role, action string) ManifestStep {
		return ManifestStep{Digest: x.m.Digest, Role: role, Tag: x.tag, Action: action, node: x}
	}
	steps := []ManifestStep{
		step(c1, "child", ActWrite), step(c2, "child", ActPresent), step(nested, "child", ActWrite),
		step(inner, "child", ActWrite), step(index, "subject", ActWrite),
		step(sig, "referrer", ActWrite), step(sbom, "referrer", ActWrite), step(sigOfSbom, "referrer", ActWrite),
		step(alias, "referrer", ActWrite),
	}
	var got [][]string
	for _, wave := range manifestWaves(steps) {
		var names []string
		for _, s := range wave {
			names = append(names, s.Digest.Hex+map[bool]string{true: "+tag"}[s.Tag != ""])
		}
		got = append(got, names)
	}
	assert.Equal(t, [][]string{
		{"c1", "c2", "n1"}, // c2 is present: counted, not written
		{"inner"},
		{"index"},
		{"sig", "sbom", "sig+tag"}, // the tag after its own manifest, with it
		{"sigsbom"},
	}, got)
}
