package sigverify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bundles attached by the real cosign CLI: v2.6.5 `sign --new-bundle-format`
// and v3.1.3 `sign` (signing predicate), v3.1.3 `attest --type vuln`.
func TestBundleFromCosign(t *testing.T) {
	cosignPub, other := fixtureKey(t, "cosign.pub"), fixtureKey(t, "other.pub")
	v := mustVerifier(t, WithKeys(other, cosignPub))
	for _, version := range []string{"v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			d := fixtureDigest(t, version)
			raw := readFixture(t, version, "sign.bundle.json")
			r, err := v.VerifySignatureBundle(raw, d)
			require.NoError(t, err)
			assert.Equal(t, FormatBundle, r.Format)
			assert.Same(t, cosignPub, r.Signer.Key)
			assert.Equal(t, SignPredicateType, r.Statement.PredicateType)

			_, err = mustVerifier(t, WithKeys(other)).VerifySignatureBundle(raw, d)
			assert.EqualError(t, err, "signature does not verify with any key")
		})
	}

	// The v3 signature verifies, but it signs the v3 image.
	_, err := v.VerifySignatureBundle(readFixture(t, "v3", "sign.bundle.json"), fixtureDigest(t, "v2"))
	assert.EqualError(t, err, "signs "+Short(fixtureDigest(t, "v3").String())+", not this digest")

	// A vulnerability attestation verifies, and is still no signature.
	vuln := readFixture(t, "v3", "vuln.bundle.json")
	_, err = v.VerifySignatureBundle(vuln, fixtureDigest(t, "v3"))
	assert.EqualError(t, err, "a "+VulnPredicateType+" attestation, not a signature")
	r, err := v.VerifyAttestationBundle(vuln, fixtureDigest(t, "v3"))
	require.NoError(t, err)
	assert.Equal(t, VulnPredicateType, r.Statement.PredicateType)
	assert.Contains(t, string(r.Statement.Predicate), `"scanFinishedOn":"2022-04-12T00:10:00Z"`)
}

func TestBundleDecision(t *testing.T) {
	subject, elsewhere := digestOf("subject"), digestOf("elsewhere")
	release := newTestKey(t, "keys/release.pub", "p256")
	stranger := newTestKey(t, "keys/stranger.pub", "p256")
	v := mustVerifier(t, WithKeys(release.pub))
	sign := statementJSON(subject, SignPredicateType, "{}")

	cases := []struct {
		name string
		raw  []byte
		err  string
	}{
		{name: "valid", raw: keyBundle(t, release, sign)},
		{name: "wrong key", raw: keyBundle(t, stranger, sign), err: "signature does not verify with any key"},
		{name: "another digest", raw: keyBundle(t, release, statementJSON(elsewhere, SignPredicateType, "{}")),
			err: "signs " + Short(elsewhere.String()) + ", not this digest"},
		{name: "vulnerability attestation", raw: keyBundle(t, release, statementJSON(subject, VulnPredicateType, `{"scanner":{}}`)),
			err: "a " + VulnPredicateType + " attestation, not a signature"},
		{name: "SLSA provenance", raw: keyBundle(t, release, statementJSON(subject, "https://slsa.dev/provenance/v1", "{}")),
			err: "a https://slsa.dev/provenance/v1 attestation, not a signature"},
		{name: "not JSON", raw: []byte("{"), err: "not a sigstore bundle"},
		{name: "message signature", raw: []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
			"verificationMaterial":{"publicKey":{"hint":"x"}},
			"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":"AAAA"}}`),
			err: "bundle holds a message signature, not an in-toto statement"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := v.VerifySignatureBundle(c.raw, subject)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "keys/release.pub", r.Signer.String())
		})
	}
}
