package attest

import (
	"bytes"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/promote-dev/promote/sigverify"
)

// BundleMediaType is the media type of the signed attestation: a sigstore
// bundle v0.3 holding a DSSE envelope. It is also the referrer's artifactType.
const BundleMediaType = sigverify.BundleMediaType

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = sigverify.InTotoPayloadType

// Sign signs st into a sigstore bundle (v0.3) as cosign v3 does with a key
// and a signing config that lists no services: a DSSE envelope over the
// statement, the public key's hint as verification material, no
// transparency log entry and no timestamp. The bundle is verified with the
// signer's public key, bound to the statement's digest, before it is
// returned, so a bundle that would not verify is never attached.
//
// The bundle is assembled from the sigstore protobuf types rather than with
// sigstore-go's pkg/sign, whose Fulcio and OIDC clients would add five
// modules to go.mod for code promote never runs.
func (s *Signer) Sign(st Statement) ([]byte, error) { return s.sign(st) }

// sign is Sign for any statement.
func (s *Signer) sign(st statement) ([]byte, error) {
	payload, err := st.Payload()
	if err != nil {
		return nil, err
	}
	d, err := st.Digest()
	if err != nil {
		return nil, err
	}
	sig, err := s.signer.SignMessage(bytes.NewReader(pae(PayloadType, payload)))
	if err != nil {
		return nil, fmt.Errorf("attestation: signing with %s: %w", s, err)
	}
	pb := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: s.hint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("attestation: assembling the bundle: %w", err)
	}
	raw, err := b.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("attestation: encoding the bundle: %w", err)
	}
	if err := s.check(raw, d, st.predicateType()); err != nil {
		return nil, err
	}
	return raw, nil
}

// check verifies raw as the signed gate would, with this signer's key, as
// a statement of predicateType.
func (s *Signer) check(raw []byte, d v1.Hash, predicateType string) error {
	v, err := sigverify.New(sigverify.WithKeys(s.key))
	if err != nil {
		return fmt.Errorf("attestation: %w", err)
	}
	r, err := v.VerifyAttestationBundle(raw, d)
	if err != nil {
		return fmt.Errorf("attestation: the bundle just signed with %s does not verify: %w", s, err)
	}
	if r.Statement.PredicateType != predicateType {
		return fmt.Errorf("attestation: the bundle just signed holds a %s statement", r.Statement.PredicateType)
	}
	return nil
}

// pae is DSSE's pre-authentication encoding of a payload: what is signed.
func pae(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))
	b.Write(payload)
	return b.Bytes()
}
