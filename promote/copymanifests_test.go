package promote

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
)

// Manifests are written in waves, each after all it references: index
// children together, then the index, then the referrers of the content,
// then referrers of referrers; a manifest already present is not waited on.
func TestManifestWavesKeepTheWriteOrder(t *testing.T) {
	names := map[v1.Hash]string{}
	n := func(name string, children ...*node) *node {
		d := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", sha256.Sum256([]byte(name)))}
		names[d] = name
		return &node{m: &registry.Manifest{Digest: d}, children: children}
	}
	on := func(x, subject *node) *node { x.subject = &subject.m.Digest; return x }
	c1, c2, nested := n("c1"), n("c2"), n("n1")
	inner := n("inner", nested)
	index := n("index", c1, c2, inner)
	sig, sbom := on(n("sig"), index), on(n("sbom"), c1)
	sigOfSbom := on(n("sigsbom"), sbom)
	alias := &node{m: sig.m, tag: "sha256-" + index.m.Digest.Hex + ".sig"}
	legacy := n("legacy") // a cosign signature of the SBOM: no subject field, only its tag
	legacy.tag = "sha256-" + sbom.m.Digest.Hex + ".sig"
	step := func(x *node, role, action string) ManifestStep {
		return ManifestStep{Digest: x.m.Digest, Role: role, Tag: x.tag, Action: action, node: x}
	}
	steps := []ManifestStep{
		step(c1, "child", ActWrite), step(c2, "child", ActPresent), step(nested, "child", ActWrite),
		step(inner, "child", ActWrite), step(index, "subject", ActWrite),
		step(sig, "referrer", ActWrite), step(sbom, "referrer", ActWrite), step(sigOfSbom, "referrer", ActWrite),
		step(alias, "referrer", ActWrite), step(legacy, "referrer", ActWrite),
	}
	var got [][]string
	for _, wave := range manifestWaves(steps) {
		var ws []string
		for _, s := range wave {
			ws = append(ws, names[s.Digest]+map[bool]string{true: "+tag"}[s.Tag != ""])
		}
		got = append(got, ws)
	}
	assert.Equal(t, [][]string{
		{"c1", "c2", "n1"}, // c2 is present: counted, not written
		{"inner"},
		{"index"},
		{"sig", "sbom", "sig+tag"}, // the tag after its own manifest, with it
		{"sigsbom", "legacy+tag"},  // after the SBOM its tag names
	}, got)
}

// Where no referrer comes between the promoted manifest and its tags, the
// manifest is written by its first tag, one request for both; with a
// referrer to write, it is written by digest before it, as invariant 5
// orders (TestWritesComeInInvariantOrder).
func TestTheRootGoesWithItsFirstTag(t *testing.T) {
	w := newWorld(t, withFakeRegistry())
	idx := regtest.Index(t, regtest.Labels("1.0.0"), "1000")
	root := w.fake.seed(fakeDev, idx)
	w.fake.seedTag(fakeDev, "1.0.0", root.Digest)
	res, err := w.promote(w.engine(), "test", "app:1.0.0")
	require.NoError(t, err)
	log := w.fake.written()
	assert.NotContains(t, log, "manifest "+root.Digest.String(), "not by digest: %v", log)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	tagAt := slices.Index(log, "tag 1.0.0")
	for _, c := range im.Manifests {
		at := slices.Index(log, "manifest "+c.Digest.String())
		assert.True(t, at >= 0 && at < tagAt, "child %s before the index's tag: %v", c.Digest, log)
	}
	assert.Equal(t, 3, res.Copy.ManifestsWritten, "two children, and the index with its tag")
	assert.Equal(t, root.Digest.String(), res.Record.Digest)
}
