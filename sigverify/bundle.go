package sigverify

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// BundleMediaType is the media type (and OCI artifactType) of the sigstore
// bundles cosign attaches as referrers.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// IsBundleMediaType reports whether mt names a sigstore bundle of any version.
func IsBundleMediaType(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.dev.sigstore.bundle")
}

// Result is a signature or attestation that verified and binds to the
// digest it was verified for.
type Result struct {
	Format string // FormatLegacy or FormatBundle
	Signer Signer
	// Statement is the verified in-toto statement (DSSE formats); nil for a
	// legacy simple-signing signature.
	Statement *Statement
}

// VerifySignatureBundle verifies a sigstore bundle as a signature of
// digest: a DSSE envelope whose in-toto statement names digest and has
// cosign's signing predicate (SignPredicateType), signed by a trusted key or
// keyless identity. An attestation (any other predicate) is not a signature.
// A bundle holding a bare message signature is refused: cosign never
// attaches one to an image, and it would not say what was signed.
func (v *Verifier) VerifySignatureBundle(raw []byte, digest v1.Hash) (Result, error) {
	r, err := v.VerifyAttestationBundle(raw, digest)
	if err != nil {
		return Result{}, err
	}
	if r.Statement.PredicateType != SignPredicateType {
		return Result{}, fmt.Errorf("a %s attestation, not a signature", r.Statement.PredicateType)
	}
	return r, nil
}

// VerifyAttestationBundle verifies a sigstore bundle holding a DSSE
// envelope and returns its in-toto statement, whatever its predicate, once
// the signature verified and the statement's subject names digest.
func (v *Verifier) VerifyAttestationBundle(raw []byte, digest v1.Hash) (Result, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return Result{}, fmt.Errorf("not a sigstore bundle: %v", err)
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return Result{}, errors.New("bundle holds a message signature, not an in-toto statement")
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return Result{}, fmt.Errorf("bundle has no usable verification material: %v", err)
	}
	var e entities
	if vc.Certificate() != nil {
		e.certified = &b
	} else {
		e.keyed = &b
	}
	return v.verifyDSSE(e, env.PayloadType, env.Payload, digest, FormatBundle)
}

// verifyDSSE verifies a DSSE-signed in-toto statement with the artifact
// policy bound to digest, as cosign does. When that fails only because the
// statement names another digest, it says so rather than blaming the key.
func (v *Verifier) verifyDSSE(e entities, payloadType string, payload []byte, digest v1.Hash, format string) (Result, error) {
	if payloadType != InTotoPayloadType {
		return Result{}, fmt.Errorf("DSSE payload type %q is not an in-toto statement", payloadType)
	}
	raw, err := hex.DecodeString(digest.Hex)
	if err != nil {
		return Result{}, fmt.Errorf("digest %s: %v", digest, err)
	}
	st, stErr := parseStatement(payload)
	bound := func() verify.ArtifactPolicyOption { return verify.WithArtifactDigest(digest.Algorithm, raw) }
	signer, _, err := v.check(e, bound)
	if err != nil {
		if stErr == nil && !st.Names(digest) {
			if _, _, unbound := v.check(e, verify.WithoutArtifactUnsafe); unbound == nil {
				return Result{}, fmt.Errorf("signs %s, not this digest", st.named())
			}
		}
		return Result{}, err
	}
	switch {
	case stErr != nil:
		return Result{}, stErr
	case !st.Names(digest): // sigstore-go checked it; never trust one check alone
		return Result{}, fmt.Errorf("signs %s, not this digest", st.named())
	}
	return Result{Format: format, Signer: signer, Statement: st}, nil
}
