package promote

import (
	"encoding/json"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/registry"
)

// node is one manifest of what a promotion moves: the subject, its index
// children at every level, and the referrers attached to any of them
// (signatures, SBOMs, attestations), each fetched once from the source
// repository. The tree is a graph: a digest listed twice is one node.
type node struct {
	m         *registry.Manifest
	platform  *v1.Platform // from the descriptor that first listed it in an index
	annot     map[string]string
	blobs     []v1.Descriptor // config and layers of an image manifest
	layers    []v1.Descriptor // layers only (attestation checks)
	children  []*node         // index entries, in index order; a repeated entry is the same node
	entries   []v1.Descriptor // the index's descriptor of each child, at the same position
	referrers []*node
	tag       string       // legacy cosign attachment tag (sha256-<hex>.sig) it lives under, if any
	subject   *v1.Hash     // the manifest's own subject field
	attached  bool         // claimed as an attachment (a referrer or under one), not as content
	config    *imageConfig // an image's config as the gates read it (subject), copied from memory
	// ready is closed once the node is built, or its build failed with
	// err: the content walk waits on it for a manifest another path claimed.
	ready chan struct{}
	err   error
}

// built ends the build of n with err (nil: built) and wakes whoever waits
// for it; it returns err.
func built(n *node, err error) error {
	n.err = err
	close(n.ready)
	return err
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

// TreeError says why the manifest tree of a source digest cannot be judged:
// an unknown media type, a manifest whose shape contradicts its type, a
// registry that lies about referrers, or a tree past a configured limit.
// Nothing of it is written. It counts as a refusal (exit 3) and is recorded.
type TreeError struct {
	Digest  v1.Hash // the digest being promoted
	Problem string
}

func (e *TreeError) Error() string {
	return fmt.Sprintf("the manifest tree of %s cannot be judged, so nothing was written: %s", e.Digest, e.Problem)
}

// Is makes a *TreeError match errs.ErrGateRejected: what cannot be judged is refused.
func (e *TreeError) Is(target error) bool { return target == errs.ErrGateRejected }

// Media types a promoted tree may hold: content (the subject and index
// entries) must be an index or an image manifest; a referrer may also be an
// OCI 1.1 draft artifact manifest.
var (
	indexTypes    = []types.MediaType{types.OCIImageIndex, types.DockerManifestList}
	imageTypes    = []types.MediaType{types.OCIManifestSchema1, types.DockerManifestSchema2}
	artifactTypes = []types.MediaType{"application/vnd.oci.artifact.manifest.v1+json"}

	contentTypes        = slices.Concat(indexTypes, imageTypes)
	referrerTypes       = slices.Concat(indexTypes, imageTypes, artifactTypes)
	attachmentLeafTypes = slices.Concat(imageTypes, artifactTypes) // a second tag on an attachment
)

// order lists the manifests in the order they are written, each once: the
// content first (index children before their index), then the referrers,
// each one after its subject.
func (n *node) order() []*node {
	seen := map[*node]bool{}
	var content, refs []*node
	post(n, &content, seen)
	queue := append([]*node{}, content...)
	for i := 0; i < len(queue); i++ {
		for _, r := range queue[i].referrers {
			var sub []*node
			post(r, &sub, seen)
			refs = append(refs, sub...)
			queue = append(queue, sub...)
		}
	}
	return append(content, refs...)
}

// content lists the manifests of the content alone, in the order they are
// written: what the index lists (nested), children first, no attachments.
// It reads no referrers, so it may run while they are still being fetched.
func (n *node) content() []*node {
	var out []*node
	post(n, &out, map[*node]bool{})
	return out
}

// post appends x's index children, then x, to into, each not yet seen.
func post(x *node, into *[]*node, seen map[*node]bool) {
	if seen[x] {
		return
	}
	seen[x] = true
	for _, c := range x.children {
		post(c, into, seen)
	}
	*into = append(*into, x)
}
