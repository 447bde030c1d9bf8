package sigverify

import (
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/sigverify/sigtest"
)

const testIssuer = "https://token.actions.githubusercontent.com"

// virtualSigstore mints keyless signatures offline (see sigtest).
type virtualSigstore struct{ *sigtest.Sigstore }

func newVirtualSigstore(t *testing.T) virtualSigstore {
	return virtualSigstore{sigtest.New(t)}
}

// root is the virtual sigstore's trusted_root.json, parsed as a configured
// file is.
func (vs virtualSigstore) root(t *testing.T, withCT bool) *root.TrustedRoot {
	t.Helper()
	tr, err := ParseTrustedRoot("trusted_root.json", vs.TrustedRootJSON(t, withCT))
	require.NoError(t, err)
	return tr
}

func (vs virtualSigstore) bundle(t *testing.T, identity, issuer string, statement []byte) []byte {
	return vs.Bundle(t, identity, issuer, statement)
}

func (vs virtualSigstore) legacy(t *testing.T, identity, issuer string, payload []byte) Layer {
	return Layer{Blob: payload, Annotations: vs.LegacyAnnotations(t, identity, issuer, payload)}
}

const workflow = "https://github.com/acme/web/.github/workflows/release.yml@refs/heads/main"

// Keyless signatures, minted by sigstore-go's virtual sigstore (Fulcio,
// Rekor, TSA in memory), verify against its pinned trusted root offline,
// and only for a configured issuer and subject.
func TestKeyless(t *testing.T) {
	vs := newVirtualSigstore(t)
	subject, elsewhere := digestOf("subject"), digestOf("elsewhere")
	acme := Identity{Issuer: testIssuer, Subject: `https://github.com/acme/.+@refs/heads/main`}
	sign := statementJSON(subject, SignPredicateType, "{}")
	payload := simpleSigningPayload(subject.String(), simpleSigningType)

	type check func(v *Verifier) (Result, error)
	bundle := func(identity, issuer string, statement []byte) check {
		raw := vs.bundle(t, identity, issuer, statement)
		return func(v *Verifier) (Result, error) { return v.VerifySignatureBundle(raw, subject) }
	}
	legacy := func(identity, issuer string, payload []byte, drop ...string) check {
		l := vs.legacy(t, identity, issuer, payload)
		for _, a := range drop {
			delete(l.Annotations, a)
		}
		return func(v *Verifier) (Result, error) { return v.VerifyLegacySignature(l, subject) }
	}
	cases := []struct {
		name   string
		ids    []Identity
		withCT bool
		check  check
		err    string
	}{
		{name: "bundle, identity matches", ids: []Identity{acme}, check: bundle(workflow, testIssuer, sign)},
		{name: "bundle, second identity matches", ids: []Identity{{Issuer: "https://accounts.google.com", Subject: "x@example.com"}, acme}, check: bundle(workflow, testIssuer, sign)},
		{name: "bundle, subject of another repository", ids: []Identity{acme}, check: bundle("https://github.com/evil/web/.github/workflows/r.yml@refs/heads/main", testIssuer, sign),
			err: "certificate identity https://github.com/evil/web/.github/workflows/r.yml@refs/heads/main (issuer " + testIssuer + ") matches no trusted identity"},
		{name: "bundle, subject regexp is anchored", ids: []Identity{{Issuer: testIssuer, Subject: `https://github.com/acme/web/.+@refs/heads/main`}},
			check: bundle("https://github.com/acme/web/x@refs/heads/main-not", testIssuer, sign), err: "matches no trusted identity"},
		{name: "bundle, another issuer", ids: []Identity{acme}, check: bundle(workflow, "https://accounts.google.com", sign),
			err: "(issuer https://accounts.google.com) matches no trusted identity"},
		{name: "bundle, vulnerability attestation", ids: []Identity{acme}, check: bundle(workflow, testIssuer, statementJSON(subject, VulnPredicateType, "{}")),
			err: "a " + VulnPredicateType + " attestation, not a signature"},
		{name: "bundle, another digest", ids: []Identity{acme}, check: bundle(workflow, testIssuer, statementJSON(elsewhere, SignPredicateType, "{}")),
			err: "signs " + Short(elsewhere.String()) + ", not this digest"},
		{name: "bundle, root demands an SCT", ids: []Identity{acme}, withCT: true, check: bundle(workflow, testIssuer, sign),
			err: "certificate does not verify"},
		{name: "legacy, identity matches", ids: []Identity{acme}, check: legacy(workflow, testIssuer, payload)},
		{name: "legacy, identity mismatch", ids: []Identity{acme}, check: legacy("someone@example.com", testIssuer, payload),
			err: "certificate identity someone@example.com (issuer " + testIssuer + ") matches no trusted identity"},
		{name: "legacy, no Rekor bundle: no signing time", ids: []Identity{acme}, check: legacy(workflow, testIssuer, payload, AnnotationBundle),
			err: "certificate does not verify"},
		{name: "legacy, another digest", ids: []Identity{acme}, check: legacy(workflow, testIssuer, simpleSigningPayload(elsewhere.String(), simpleSigningType)),
			err: "signs " + Short(elsewhere.String()) + ", not this digest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := mustVerifier(t, WithIdentities(vs.root(t, c.withCT), c.ids...))
			r, err := c.check(v)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Nil(t, r.Signer.Key)
			assert.Equal(t, testIssuer, r.Signer.Issuer)
			assert.Equal(t, workflow, r.Signer.Subject)
		})
	}
}

// A keyless signature is checked against the identities even when keys are
// configured too; a key signature against the keys.
func TestKeysAndIdentities(t *testing.T) {
	vs := newVirtualSigstore(t)
	subject := digestOf("subject")
	k := newTestKey(t, "keys/release.pub", "p256")
	v := mustVerifier(t, WithKeys(k.pub), WithIdentities(vs.root(t, false), Identity{Issuer: testIssuer, Subject: ".+"}))

	r, err := v.VerifySignatureBundle(vs.bundle(t, workflow, testIssuer, statementJSON(subject, SignPredicateType, "{}")), subject)
	require.NoError(t, err)
	assert.Equal(t, workflow+" (issuer "+testIssuer+")", r.Signer.String())

	r, err = v.VerifySignatureBundle(keyBundle(t, k, statementJSON(subject, SignPredicateType, "{}")), subject)
	require.NoError(t, err)
	assert.Equal(t, "keys/release.pub", r.Signer.String())

	// A keys-only verifier says why a certificate cannot count.
	_, err = mustVerifier(t, WithKeys(k.pub)).VerifySignatureBundle(vs.bundle(t, workflow, testIssuer, statementJSON(subject, SignPredicateType, "{}")), subject)
	assert.EqualError(t, err, "keyless signature (certificate), but no identities are trusted")
}

func TestIdentityConfig(t *testing.T) {
	vs := newVirtualSigstore(t)
	tr := vs.root(t, false)
	for _, c := range []struct {
		id  Identity
		err string
	}{
		{Identity{Subject: ".*"}, "issuer is empty"},
		{Identity{Issuer: testIssuer}, "subject is empty"},
		{Identity{Issuer: testIssuer, Subject: "("}, "is not a regular expression"},
	} {
		_, err := New(WithIdentities(tr, c.id))
		assert.ErrorContains(t, err, c.err)
	}
	_, err := New(WithIdentities(tr))
	assert.ErrorContains(t, err, "trusts nobody")

	_, err = ParseTrustedRoot("root.json", []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`))
	assert.ErrorContains(t, err, "root.json: no certificate authority")
	_, err = ParseTrustedRoot("root.json", []byte(`not json`))
	assert.ErrorContains(t, err, "root.json is not a sigstore trusted root")
}
