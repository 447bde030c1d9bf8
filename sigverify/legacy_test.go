package sigverify

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Signatures made by the real cosign CLI, v2.6.5 and v3.1.3 (legacy format,
// offline), verify with the key that made them and bind to their image.
func TestLegacySignatureFromCosign(t *testing.T) {
	cosignPub, other := fixtureKey(t, "cosign.pub"), fixtureKey(t, "other.pub")
	for _, version := range []string{"v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			d, l := fixtureDigest(t, version), fixtureSigLayer(t, version)

			r, err := mustVerifier(t, WithKeys(other, cosignPub)).VerifyLegacySignature(l, d)
			require.NoError(t, err)
			assert.Equal(t, FormatLegacy, r.Format)
			assert.Same(t, cosignPub, r.Signer.Key, "the key that verified is reported, not the first configured")
			assert.Nil(t, r.Statement)

			_, err = mustVerifier(t, WithKeys(other)).VerifyLegacySignature(l, d)
			assert.EqualError(t, err, "signature does not verify with any key")
		})
	}
	// v3's signature verifies, but signs v3's image, not v2's.
	_, err := mustVerifier(t, WithKeys(cosignPub)).VerifyLegacySignature(fixtureSigLayer(t, "v3"), fixtureDigest(t, "v2"))
	assert.EqualError(t, err, "signs "+Short(fixtureDigest(t, "v3").String())+", not this digest")
}

// The decision on one legacy signature layer, case by case.
func TestLegacySignatureDecision(t *testing.T) {
	subject, elsewhere := digestOf("subject"), digestOf("elsewhere")
	release := newTestKey(t, "keys/release.pub", "p256")
	backup := newTestKey(t, "keys/backup.pub", "p256")
	stranger := newTestKey(t, "keys/stranger.pub", "p256")
	good := simpleSigningPayload(subject.String(), "cosign container image signature")

	tampered := legacyLayer(t, release, good)
	tampered.Blob = simpleSigningPayload(elsewhere.String(), "cosign container image signature")

	cases := []struct {
		name   string
		keys   []testKey
		layer  Layer
		signer string // key name on success
		err    string
	}{
		{name: "valid", keys: []testKey{release}, layer: legacyLayer(t, release, good), signer: "keys/release.pub"},
		{name: "several keys, the second signed", keys: []testKey{release, backup}, layer: legacyLayer(t, backup, good), signer: "keys/backup.pub"},
		{name: "wrong key", keys: []testKey{release, backup}, layer: legacyLayer(t, stranger, good), err: "signature does not verify with any key"},
		{name: "signature for another digest", keys: []testKey{release},
			layer: legacyLayer(t, release, simpleSigningPayload(elsewhere.String(), "cosign container image signature")),
			err:   "signs " + Short(elsewhere.String()) + ", not this digest"},
		{name: "wrong payload type", keys: []testKey{release},
			layer: legacyLayer(t, release, simpleSigningPayload(subject.String(), "atomic container signature")),
			err:   `payload type "atomic container signature" is not a cosign container image signature`},
		{name: "tampered payload", keys: []testKey{release}, layer: tampered, err: "signature does not verify with any key"},
		{name: "bad base64", keys: []testKey{release},
			layer: Layer{Blob: good, Annotations: map[string]string{AnnotationSignature: "not base64!"}},
			err:   "signature annotation is not valid base64"},
		{name: "no signature annotation", keys: []testKey{release}, layer: Layer{Blob: good}, err: "no signature annotation"},
		{name: "signed payload that is not JSON", keys: []testKey{release}, layer: legacyLayer(t, release, []byte("hello")), err: "payload is not simple-signing JSON"},
		{name: "signed payload without a digest", keys: []testKey{release},
			layer: legacyLayer(t, release, []byte(`{"critical":{"type":"cosign container image signature"}}`)),
			err:   `payload names no valid docker-manifest-digest ("")`},
		{name: "ECDSA P-384 (SHA-384)", keys: []testKey{newTestKey(t, "p384.pub", "p384")}, signer: "p384.pub"},
		{name: "ECDSA P-384 (SHA-256, older cosign)", keys: []testKey{newTestKey(t, "p384.pub", "p384-sha256")}, signer: "p384.pub"},
		{name: "Ed25519", keys: []testKey{newTestKey(t, "ed25519.pub", "ed25519")}, signer: "ed25519.pub"},
		{name: "RSA PKCS#1 v1.5", keys: []testKey{newTestKey(t, "rsa.pub", "rsa")}, signer: "rsa.pub"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var keys []*Key
			for _, k := range c.keys {
				keys = append(keys, k.pub)
			}
			l := c.layer
			if l.Blob == nil { // sign with the only key
				l = legacyLayer(t, c.keys[0], good)
			}
			r, err := mustVerifier(t, WithKeys(keys...)).VerifyLegacySignature(l, subject)
			if c.err != "" {
				assert.EqualError(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, r.Signer.Key)
			assert.Equal(t, c.signer, r.Signer.Key.Name)
		})
	}
}

// A keyless-only verifier says why a key signature cannot count.
func TestLegacySignatureWithoutKeys(t *testing.T) {
	vs := newVirtualSigstore(t)
	v := mustVerifier(t, WithIdentities(vs.root(t, false), Identity{Issuer: testIssuer, Subject: "ci@example.com"}))
	k := newTestKey(t, "k", "p256")
	_, err := v.VerifyLegacySignature(legacyLayer(t, k, simpleSigningPayload(digestOf("x").String(), simpleSigningType)), digestOf("x"))
	assert.EqualError(t, err, "signed with a key, but no keys are trusted (only keyless identities)")
}

// An attestation made by `cosign attest --type vuln` (v2, legacy .att)
// yields its statement, bound to the image it names.
func TestLegacyAttestationFromCosign(t *testing.T) {
	v := mustVerifier(t, WithKeys(fixtureKey(t, "cosign.pub")))
	d := fixtureDigest(t, "v2")
	l := Layer{Blob: readFixture(t, "v2", "att.envelope.json")}

	r, err := v.VerifyLegacyAttestation(l, d)
	require.NoError(t, err)
	assert.Equal(t, FormatLegacy, r.Format)
	assert.Equal(t, VulnPredicateType, r.Statement.PredicateType)
	assert.Contains(t, string(r.Statement.Predicate), `"fakescanner.example.com/cosign-testing"`)
	assert.True(t, r.Statement.Names(d))

	_, err = v.VerifyLegacyAttestation(l, fixtureDigest(t, "v3"))
	assert.EqualError(t, err, "signs "+Short(d.String())+", not this digest")

	_, err = mustVerifier(t, WithKeys(fixtureKey(t, "other.pub"))).VerifyLegacyAttestation(l, d)
	assert.EqualError(t, err, "signature does not verify with any key")
}

func TestLegacyAttestationDecision(t *testing.T) {
	subject := digestOf("subject")
	k := newTestKey(t, "k", "p256")
	st := statementJSON(subject, VulnPredicateType, `{"scanner":{"uri":"x"}}`)
	v := mustVerifier(t, WithKeys(k.pub))

	r, err := v.VerifyLegacyAttestation(Layer{Blob: dsseEnvelope(t, k, InTotoPayloadType, st)}, subject)
	require.NoError(t, err)
	assert.JSONEq(t, `{"scanner":{"uri":"x"}}`, string(r.Statement.Predicate))

	_, err = v.VerifyLegacyAttestation(Layer{Blob: dsseEnvelope(t, k, "text/plain", st)}, subject)
	assert.EqualError(t, err, `DSSE payload type "text/plain" is not an in-toto statement`)

	_, err = v.VerifyLegacyAttestation(Layer{Blob: []byte("{")}, subject)
	assert.ErrorContains(t, err, "layer is not a DSSE envelope")

	_, err = v.VerifyLegacyAttestation(Layer{Blob: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`)}, subject)
	assert.EqualError(t, err, "DSSE envelope has no signature")

	notStatement := dsseEnvelope(t, k, InTotoPayloadType, []byte(`{"hello":"world"}`))
	_, err = v.VerifyLegacyAttestation(Layer{Blob: notStatement}, subject)
	assert.Error(t, err)
}
