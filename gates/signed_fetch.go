package gates

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/sigverify"
)

// Bounds on what is read to judge a signature. A signature's payload or
// bundle is small (cosign's are under 4 KiB); an attestation's predicate
// (a vulnerability report, an SBOM) can be large.
const (
	maxSignatureBytes   = 1 << 20
	maxAttestationBytes = 16 << 20
	// maxSigLayers bounds the layers of one attachment that are read: a
	// cosign tag manifest gains one a signature (or attestation).
	maxSigLayers = 64
	// maxSigReadBytes bounds the distinct bytes one judgement reads of
	// attachments; beyond it the judgement fails closed. Each distinct
	// layer is read once, however many layers name it.
	maxSigReadBytes = 64 << 20
)

// sigReads is what one judgement (collectSignatures, collectAttestations)
// has read of attachment layers: each distinct blob once, and how many
// bytes in all, so that many layers naming one large blob cost it once.
type sigReads struct {
	blobs map[v1.Hash][]byte
	bytes int64
}

func newSigReads() *sigReads { return &sigReads{blobs: map[v1.Hash][]byte{}} }

// sigCandidate is one signature or attestation attached to a subject, with
// the blob that holds it, read from the registry; the verification is
// judged apart from the fetching (judgeSignatures, Attestations).
type sigCandidate struct {
	Manifest    v1.Hash // the attachment manifest it lives in
	Layer       int     // its layer in that manifest
	Layers      int     // how many layers that manifest has
	Format      string  // sigverify.FormatLegacy or FormatBundle
	Blob        []byte  // simple-signing payload, DSSE envelope, or bundle JSON
	Annotations map[string]string
	// Refused says why it was not verified at all (an oversized layer, a
	// media type that holds no signature).
	Refused string
}

// name is how a reason names the candidate: its manifest digest, and its
// layer when the manifest holds several.
func (c sigCandidate) name() string {
	n := sigverify.Short(c.Manifest.String())
	if c.Layers > 1 {
		n += fmt.Sprintf(" layer %d", c.Layer)
	}
	return n
}

// sigAttachmentKind classifies an attachment: a legacy cosign tag manifest
// (suffix "sig" or "att"), a sigstore bundle referrer, or neither ("").
func sigAttachmentKind(a Attachment) string {
	switch {
	case strings.HasSuffix(a.Tag, ".sig"):
		return "sig"
	case strings.HasSuffix(a.Tag, ".att"):
		return "att"
	case sigverify.IsBundleMediaType(a.ArtifactType):
		return "bundle"
	}
	return ""
}

// collectSignatures reads every signature candidate attached to s.Digest:
// each layer of its sha256-<hex>.sig manifest and each sigstore bundle
// referrer. It counts, but does not read, signatures attached to the
// platform images of an index. A registry failure is an error.
func collectSignatures(ctx context.Context, s *Subject) (cands []sigCandidate, elsewhere int, err error) {
	platforms := map[v1.Hash]bool{}
	for _, img := range s.Images {
		platforms[img.Digest] = img.Digest != s.Digest
	}
	seen := map[v1.Hash]bool{}
	reads := newSigReads()
	for _, a := range s.Attachments {
		kind := sigAttachmentKind(a)
		if kind != "sig" && kind != "bundle" || seen[a.Digest] {
			continue
		}
		seen[a.Digest] = true
		if a.Subject != s.Digest {
			if platforms[a.Subject] && (kind == "sig" || isSignatureHint(a)) {
				elsewhere++
			}
			continue
		}
		format, want := sigverify.FormatLegacy, sigverify.SimpleSigningMediaType
		if kind == "bundle" {
			format, want = sigverify.FormatBundle, ""
		}
		cs, err := readSigLayers(ctx, s, a, sigLayers{format: format, want: want, max: maxSignatureBytes, reads: reads})
		if err != nil {
			return nil, 0, err
		}
		cands = append(cands, cs...)
	}
	return cands, elsewhere, nil
}

// sigLayers says which layers of an attachment hold what is looked for:
// those of media type want (any sigstore bundle media type when want is
// empty), in format, of at most max bytes. skip, when set, drops a layer
// unread (an attestation of another predicate type, by its unverified hint).
type sigLayers struct {
	format, want string
	max          int64
	skip         func(l v1.Descriptor) bool
	reads        *sigReads // shared by one judgement's reads
}

// readSigLayers turns attachment a into candidates, one per layer that
// sel picks, reading each blob.
func readSigLayers(ctx context.Context, s *Subject, a Attachment, sel sigLayers) ([]sigCandidate, error) {
	format, want, max, skip := sel.format, sel.want, sel.max, sel.skip
	m, err := v1.ParseManifest(bytes.NewReader(a.Manifest))
	if err != nil {
		return []sigCandidate{{Manifest: a.Digest, Format: format, Refused: "manifest is not an OCI image manifest"}}, nil
	}
	if format == sigverify.FormatBundle && len(m.Layers) != 1 {
		return []sigCandidate{{Manifest: a.Digest, Format: format, Refused: fmt.Sprintf("a bundle manifest holds one layer, this one %d", len(m.Layers))}}, nil
	}
	if len(m.Layers) > maxSigLayers {
		return []sigCandidate{{Manifest: a.Digest, Format: format, Refused: fmt.Sprintf("the attachment holds %d layers, more than the %d read", len(m.Layers), maxSigLayers)}}, nil
	}
	var out []sigCandidate
	for i, l := range m.Layers {
		if skip != nil && skip(l) {
			continue
		}
		c := sigCandidate{Manifest: a.Digest, Layer: i, Layers: len(m.Layers), Format: format, Annotations: l.Annotations}
		switch {
		case want == "" && !sigverify.IsBundleMediaType(string(l.MediaType)),
			want != "" && string(l.MediaType) != want:
			c.Refused = fmt.Sprintf("layer media type %q holds no %s", l.MediaType, format)
		case l.Size > max:
			c.Refused = fmt.Sprintf("layer of %d bytes exceeds the %d-byte limit", l.Size, max)
		default:
			blob, err := sel.read(ctx, s, a, l, c)
			if err != nil {
				return nil, err
			}
			c.Blob = blob
		}
		out = append(out, c)
	}
	return out, nil
}

// read reads layer l of attachment a once per judgement, within its
// byte budget.
func (sel sigLayers) read(ctx context.Context, s *Subject, a Attachment, l v1.Descriptor, c sigCandidate) ([]byte, error) {
	if b, ok := sel.reads.blobs[l.Digest]; ok {
		return b, nil
	}
	if s.Source == nil {
		return nil, fmt.Errorf("reading %s of %s: no registry access", sigverify.Short(l.Digest.String()), c.name())
	}
	if sel.reads.bytes+l.Size > maxSigReadBytes {
		return nil, fmt.Errorf("the attachments of %s hold more than %d MiB of signatures and attestations; "+
			"refusing to read more (nothing can be judged past it): remove the junk attachments", s.Digest, maxSigReadBytes>>20)
	}
	blob, err := s.Source.Blob(ctx, s.Repository, l, sel.max)
	if err != nil {
		return nil, fmt.Errorf("reading %s of attachment %s (%s): %w", l.Digest, a.Digest, sel.format, err)
	}
	sel.reads.blobs[l.Digest] = blob
	sel.reads.bytes += int64(len(blob))
	return blob, nil
}

// isSignatureHint reports whether a bundle referrer says (unverified, in
// its manifest annotations) that it holds a signature rather than an
// attestation; one that says nothing may be either.
func isSignatureHint(a Attachment) bool {
	t := manifestAnnotation(a, bundlePredicateAnnotation)
	return t == "" || t == sigverify.SignPredicateType
}
