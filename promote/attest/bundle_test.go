package attest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/sigverify"
)

// sigstoreVerifier verifies with the public key in pubPEM as cosign v3 does
// for `verify-attestation --key`: no transparency log, no timestamps.
func sigstoreVerifier(t *testing.T, pubPEM []byte) *verify.Verifier {
	t.Helper()
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	require.NoError(t, err)
	sv, err := signature.LoadDefaultVerifier(pub)
	require.NoError(t, err)
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	require.NoError(t, err)
	return v
}

func digestPolicy(t *testing.T, d string) verify.PolicyBuilder {
	t.Helper()
	raw, err := hex.DecodeString(strings.TrimPrefix(d, "sha256:"))
	require.NoError(t, err)
	return verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithKey())
}

// A signed statement verifies with sigstore-go against the key cosign wrote,
// bound to the promoted digest, and carries the predicate as built.
func TestSignVerifiesWithSigstoreGo(t *testing.T) {
	s := fixtureSigner(t)
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	raw, err := s.Sign(st)
	require.NoError(t, err)

	var b bundle.Bundle
	require.NoError(t, b.UnmarshalJSON(raw))
	res, err := sigstoreVerifier(t, fixture(t, "cosign.pub")).Verify(&b, digestPolicy(t, testDigest))
	require.NoError(t, err)
	require.NotNil(t, res.Statement)
	assert.Equal(t, PredicateType, res.Statement.PredicateType)
	assert.Equal(t, StatementType, res.Statement.Type)
	assert.Equal(t, "prod", res.Statement.Predicate.Fields["environment"].GetStringValue())
	assert.Equal(t, float64(7), res.Statement.Predicate.Fields["record"].GetStructValue().Fields["seq"].GetNumberValue())

	_, err = sigstoreVerifier(t, fixture(t, "pkcs8.pub")).Verify(&b, digestPolicy(t, testDigest))
	assert.Error(t, err, "another key does not verify it")
	other := "sha256:" + strings.Repeat("ab", 32)
	_, err = sigstoreVerifier(t, fixture(t, "cosign.pub")).Verify(&b, digestPolicy(t, other))
	assert.Error(t, err, "it attests the promoted digest only")
}

// The signed gate's own verifier (sigverify) reads it as an
// attestation of the digest by the configured key.
func TestSignVerifiesWithTheSignedGate(t *testing.T) {
	s := fixtureSigner(t)
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	raw, err := s.Sign(st)
	require.NoError(t, err)
	key, err := sigverify.ParseKey("cosign.pub", fixture(t, "cosign.pub"))
	require.NoError(t, err)
	v, err := sigverify.New(sigverify.WithKeys(key))
	require.NoError(t, err)
	r, err := v.VerifyAttestationBundle(raw, v1.Hash{Algorithm: "sha256", Hex: strings.TrimPrefix(testDigest, "sha256:")})
	require.NoError(t, err)
	assert.Equal(t, PredicateType, r.Statement.PredicateType)
	assert.Equal(t, key.ID, r.Signer.Key.ID)
	payload, err := st.Payload()
	require.NoError(t, err)
	var signed struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(payload, &signed))
	assert.JSONEq(t, string(signed.Predicate), string(r.Statement.Predicate))
}

// The bundle is laid out as cosign v3 writes one with a key: v0.3, the
// public key's hint (base64 SHA-256 of its DER), a DSSE envelope with one
// signature, no transparency log entries and no timestamps.
func TestBundleLayout(t *testing.T) {
	s := fixtureSigner(t)
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	raw, err := s.Sign(st)
	require.NoError(t, err)
	var doc struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial map[string]json.RawMessage
		DsseEnvelope         struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, "application/vnd.dev.sigstore.bundle.v0.3+json", doc.MediaType)
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(fixture(t, "cosign.pub"))
	require.NoError(t, err)
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	assert.JSONEq(t, `{"hint":"`+base64.StdEncoding.EncodeToString(sum[:])+`"}`, string(doc.VerificationMaterial["publicKey"]))
	assert.NotContains(t, doc.VerificationMaterial, "tlogEntries")
	assert.NotContains(t, doc.VerificationMaterial, "timestampVerificationData")
	assert.Equal(t, "application/vnd.in-toto+json", doc.DsseEnvelope.PayloadType)
	assert.Len(t, doc.DsseEnvelope.Signatures, 1)
	payload, err := base64.StdEncoding.DecodeString(doc.DsseEnvelope.Payload)
	require.NoError(t, err)
	want, err := st.Payload()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(payload), "the envelope carries the statement byte for byte")
}

func TestSignRefusesWhatItCannotAttest(t *testing.T) {
	s := fixtureSigner(t)
	_, err := s.Sign(Statement{Type: StatementType, PredicateType: "https://slsa.dev/provenance/v1"})
	assert.ErrorContains(t, err, "not a promotion statement")
}
