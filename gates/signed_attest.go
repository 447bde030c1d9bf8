package gates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/sigverify"
)

// Statement is a signed in-toto statement attached to a subject, verified
// against a SignatureVerifier's keys or identities and naming the
// subject's digest.
type Statement struct {
	PredicateType string
	// Predicate is the predicate as signed, byte for byte.
	Predicate json.RawMessage
	Format    string  // sigverify.FormatLegacy (.att tag) or FormatBundle (referrer)
	Signer    string  // the key file, or "subject (issuer issuer)"
	KeyID     string  // the key's ID when a key signed
	Manifest  v1.Hash // the attachment manifest it came from
	// Issuer and Subject are the certificate's OIDC issuer and subject
	// when a keyless identity signed.
	Issuer, Subject string
}

// Rejection is an attestation that did not verify, and why.
type Rejection struct {
	Manifest v1.Hash
	Format   string
	Reason   string
}

// String renders the rejection for a one-line reason.
func (r Rejection) String() string { return sigverify.Short(r.Manifest.String()) + ": " + r.Reason }

// Attestations returns the attestations of predicateType (every type when
// empty) attached to s.Digest whose signature verifies and whose statement
// names s.Digest: cosign's legacy sha256-<hex>.att manifests (DSSE
// envelopes, one per layer) and sigstore bundle referrers. A layer or
// bundle whose unverified predicateType annotation names another type is
// not read. Rejections say why the others failed. A registry failure is an
// error. Attestations attached only to platform images are not returned.
func (v *SignatureVerifier) Attestations(ctx context.Context, s *Subject, predicateType string) ([]Statement, []Rejection, error) {
	cands, err := collectAttestations(ctx, s, predicateType)
	if err != nil {
		return nil, nil, err
	}
	var out []Statement
	var rejected []Rejection
	for _, c := range cands {
		r, err := verifyAttestation(v.v, s.Digest, c)
		if err == nil && predicateType != "" && r.Statement.PredicateType != predicateType {
			err = fmt.Errorf("a %s attestation, not %s", r.Statement.PredicateType, predicateType)
		}
		if err != nil {
			rejected = append(rejected, Rejection{Manifest: c.Manifest, Format: c.Format, Reason: err.Error()})
			continue
		}
		st := Statement{PredicateType: r.Statement.PredicateType, Predicate: r.Statement.Predicate,
			Format: r.Format, Signer: r.Signer.String(), Manifest: c.Manifest}
		if r.Signer.Key != nil {
			st.KeyID = r.Signer.Key.ID
		} else {
			st.Issuer, st.Subject = r.Signer.Issuer, r.Signer.Subject
		}
		out = append(out, st)
	}
	return out, rejected, nil
}

func verifyAttestation(v *sigverify.Verifier, digest v1.Hash, c sigCandidate) (sigverify.Result, error) {
	if c.Refused != "" {
		return sigverify.Result{}, errors.New(c.Refused)
	}
	if c.Format == sigverify.FormatBundle {
		return v.VerifyAttestationBundle(c.Blob, digest)
	}
	return v.VerifyLegacyAttestation(sigverify.Layer{Blob: c.Blob, Annotations: c.Annotations}, digest)
}

// bundlePredicateAnnotation is the (unverified) predicate type cosign notes
// on a bundle referrer's manifest.
const bundlePredicateAnnotation = "dev.sigstore.bundle.predicateType"

// collectAttestations reads the attestation candidates attached to
// s.Digest, skipping those whose predicateType hint names another type.
func collectAttestations(ctx context.Context, s *Subject, predicateType string) ([]sigCandidate, error) {
	var out []sigCandidate
	seen := map[v1.Hash]bool{}
	reads := newSigReads()
	for _, a := range s.Attachments {
		kind := sigAttachmentKind(a)
		if kind != "att" && kind != "bundle" || a.Subject != s.Digest || seen[a.Digest] {
			continue
		}
		seen[a.Digest] = true
		format, want := sigverify.FormatLegacy, sigverify.DSSEMediaType
		if kind == "bundle" {
			format, want = sigverify.FormatBundle, ""
			if hint := manifestAnnotation(a, bundlePredicateAnnotation); predicateType != "" && hint != "" && hint != predicateType {
				continue
			}
		}
		skip := func(l v1.Descriptor) bool {
			hint := l.Annotations[sigverify.AnnotationPredicateType]
			return kind == "att" && predicateType != "" && hint != "" && hint != predicateType
		}
		cs, err := readSigLayers(ctx, s, a, sigLayers{format: format, want: want, max: maxAttestationBytes, skip: skip, reads: reads})
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// manifestAnnotation reads one annotation of an attachment's manifest.
func manifestAnnotation(a Attachment, key string) string {
	var m struct {
		Annotations map[string]string `json:"annotations"`
	}
	if json.Unmarshal(a.Manifest, &m) != nil {
		return ""
	}
	return m.Annotations[key]
}
