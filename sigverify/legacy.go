package sigverify

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Media types and annotations of cosign's legacy attachment manifests.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"

	AnnotationSignature     = "dev.cosignproject.cosign/signature"
	AnnotationCertificate   = "dev.sigstore.cosign/certificate"
	AnnotationChain         = "dev.sigstore.cosign/chain"
	AnnotationBundle        = "dev.sigstore.cosign/bundle"
	AnnotationPredicateType = "predicateType" // on .att layers; a hint, never trusted
)

// simpleSigningType is the critical.type of a cosign image signature.
const simpleSigningType = "cosign container image signature"

// Layer is one layer of a legacy cosign .sig or .att manifest: its blob
// (a simple-signing payload, or a DSSE envelope) and its annotations.
type Layer struct {
	Blob        []byte
	Annotations map[string]string
}

// simpleSigning is the part of a simple-signing payload that binds it.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// VerifyLegacySignature verifies one layer of a sha256-<hex>.sig manifest:
// the base64 signature annotation over the payload bytes, by a trusted key
// or a keyless certificate (with its Rekor bundle annotation), and binds it:
// the payload must be a cosign container image signature of digest.
func (v *Verifier) VerifyLegacySignature(l Layer, digest v1.Hash) (Result, error) {
	enc, ok := l.Annotations[AnnotationSignature]
	if !ok || enc == "" {
		return Result{}, errors.New("no signature annotation")
	}
	sig, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return Result{}, errors.New("signature annotation is not valid base64")
	}
	sum := sha256.Sum256(l.Blob)
	content := &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
		MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
		Signature:     sig,
	}}
	e, err := legacyEntities(content, l.Annotations)
	if err != nil {
		return Result{}, err
	}
	signer, _, err := v.check(e, func() verify.ArtifactPolicyOption { return verify.WithArtifact(bytes.NewReader(l.Blob)) })
	if err != nil {
		return Result{}, err
	}
	var p simpleSigning
	if err := json.Unmarshal(l.Blob, &p); err != nil {
		return Result{}, errors.New("payload is not simple-signing JSON")
	}
	if p.Critical.Type != simpleSigningType {
		return Result{}, fmt.Errorf("payload type %q is not a %s", p.Critical.Type, simpleSigningType)
	}
	signed, err := v1.NewHash(p.Critical.Image.DockerManifestDigest)
	switch {
	case err != nil:
		return Result{}, fmt.Errorf("payload names no valid docker-manifest-digest (%q)", p.Critical.Image.DockerManifestDigest)
	case signed != digest:
		return Result{}, fmt.Errorf("signs %s, not this digest", Short(signed.String()))
	}
	return Result{Format: FormatLegacy, Signer: signer}, nil
}

// VerifyLegacyAttestation verifies one layer of a sha256-<hex>.att
// manifest: a DSSE envelope holding an in-toto statement, signed by a
// trusted key or keyless certificate, whose subject names digest.
func (v *Verifier) VerifyLegacyAttestation(l Layer, digest v1.Hash) (Result, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(l.Blob, &env); err != nil {
		return Result{}, fmt.Errorf("layer is not a DSSE envelope: %v", err)
	}
	if len(env.Signatures) == 0 {
		return Result{}, errors.New("DSSE envelope has no signature")
	}
	// sigstore-go verifies envelopes of exactly one signature; try each.
	var first error
	for _, s := range env.Signatures {
		content := &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: env.Payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: s.Sig, Keyid: s.KeyID}},
		}}
		e, err := legacyEntities(content, l.Annotations)
		if err == nil {
			var r Result
			if r, err = v.verifyDSSE(e, env.PayloadType, env.Payload, digest, FormatLegacy); err == nil {
				return r, nil
			}
		}
		if first == nil {
			first = err
		}
	}
	return Result{}, first
}

// legacyEntities turns a legacy layer into sigstore bundles (v0.1, the
// version whose log entries carry inclusion promises, as cosign's Rekor
// bundle annotation does): one to check against keys, and, when the layer
// has a certificate, one to check against identities.
func legacyEntities(content any, ann map[string]string) (entities, error) {
	mk := func(vm *protobundle.VerificationMaterial) (*bundle.Bundle, error) {
		pb := &protobundle.Bundle{MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1", VerificationMaterial: vm}
		switch c := content.(type) {
		case *protobundle.Bundle_MessageSignature:
			pb.Content = c
		case *protobundle.Bundle_DsseEnvelope:
			pb.Content = c
		}
		return bundle.NewBundle(pb)
	}
	keyed, err := mk(&protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
	})
	if err != nil {
		return entities{}, fmt.Errorf("malformed signature: %v", err)
	}
	e := entities{keyed: keyed}
	if ann[AnnotationCertificate] == "" {
		return e, nil
	}
	vm, err := legacyCertificateMaterial(ann)
	if err != nil {
		return entities{}, err
	}
	certified, err := mk(vm)
	if err != nil {
		return entities{}, fmt.Errorf("malformed keyless signature: %v", err)
	}
	e.certified = certified
	return e, nil
}
