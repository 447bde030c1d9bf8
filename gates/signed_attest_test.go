package gates

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/sigverify"
)

func fixtureVerifier(t *testing.T, keys string) *SignatureVerifier {
	t.Helper()
	f, _ := Lookup(SignedGate)
	g, err := f(yamlSettings(keys, signedFixtures))
	require.NoError(t, err)
	return g.(signedGate).v
}

// Vulnerability attestations made by `cosign attest --type vuln` (v2:
// legacy .att tag; v3: bundle referrer) are returned with their predicate
// once verified; signatures are not vulnerability attestations.
func TestAttestationsFromCosign(t *testing.T) {
	v := fixtureVerifier(t, `keys: [keys/cosign.pub]`)
	v2, v3 := signedFixtureDigest(t, "v2"), signedFixtureDigest(t, "v3")
	src := newBlobSource()
	subjects := map[string]*Subject{
		"v2": {Repository: "r.example/web", Digest: v2, Source: src, Attachments: []Attachment{
			fixtureAttachment(t, src, v2, "v2", "sig.manifest.json", "sig.payload.json"),
			fixtureAttachment(t, src, v2, "v2", "sign.bundle.manifest.json", "sign.bundle.json"),
			fixtureAttachment(t, src, v2, "v2", "att.manifest.json", "att.envelope.json"),
		}},
		"v3": {Repository: "r.example/web", Digest: v3, Source: src, Attachments: []Attachment{
			fixtureAttachment(t, src, v3, "v3", "sign.bundle.manifest.json", "sign.bundle.json"),
			fixtureAttachment(t, src, v3, "v3", "vuln.bundle.manifest.json", "vuln.bundle.json"),
		}},
	}
	for version, format := range map[string]string{"v2": sigverify.FormatLegacy, "v3": sigverify.FormatBundle} {
		t.Run(version, func(t *testing.T) {
			sts, rejected, err := v.Attestations(context.Background(), subjects[version], sigverify.VulnPredicateType)
			require.NoError(t, err)
			assert.Empty(t, rejected, "the signature bundle is skipped by its predicateType annotation, unread")
			require.Len(t, sts, 1)
			st := sts[0]
			assert.Equal(t, sigverify.VulnPredicateType, st.PredicateType)
			assert.Equal(t, format, st.Format)
			assert.Equal(t, "keys/cosign.pub", st.Signer)
			assert.Len(t, st.KeyID, 16)
			assert.JSONEq(t, `{"uri":"fakescanner.example.com/cosign-testing","version":"","db":{"uri":"","version":""},"result":null}`, scanner(t, st.Predicate))
		})
	}

	all, _, err := v.Attestations(context.Background(), subjects["v2"], "")
	require.NoError(t, err)
	var types []string
	for _, st := range all {
		types = append(types, st.PredicateType)
	}
	assert.ElementsMatch(t, []string{sigverify.SignPredicateType, sigverify.VulnPredicateType}, types, "every type when none is asked for; a legacy .sig is no statement")

	_, rejected, err := fixtureVerifier(t, `keys: [keys/other.pub]`).Attestations(context.Background(), subjects["v3"], sigverify.VulnPredicateType)
	require.NoError(t, err)
	require.Len(t, rejected, 1)
	assert.Equal(t, "signature does not verify with any key", rejected[0].Reason)
}

// An attestation copied onto another image does not bind to it.
func TestAttestationsBindToDigest(t *testing.T) {
	v := fixtureVerifier(t, `keys: [keys/cosign.pub]`)
	v2, v3 := signedFixtureDigest(t, "v2"), signedFixtureDigest(t, "v3")
	src := newBlobSource()
	s := &Subject{Repository: "r.example/web", Digest: v2, Source: src, Attachments: []Attachment{
		fixtureAttachment(t, src, v2, "v3", "vuln.bundle.manifest.json", "vuln.bundle.json"),
		fixtureAttachment(t, src, sha([]byte("child")), "v2", "att.manifest.json", "att.envelope.json"),
	}}
	sts, rejected, err := v.Attestations(context.Background(), s, sigverify.VulnPredicateType)
	require.NoError(t, err)
	assert.Empty(t, sts)
	require.Len(t, rejected, 1, "the .att on another digest is not a candidate")
	assert.Equal(t, "signs "+sigverify.Short(v3.String())+", not this digest", rejected[0].Reason)
	assert.Contains(t, rejected[0].String(), ": signs sha256:")
}

func scanner(t *testing.T, predicate []byte) string {
	t.Helper()
	var p struct {
		Scanner map[string]any `json:"scanner"`
	}
	require.NoError(t, json.Unmarshal(predicate, &p))
	b, err := json.Marshal(p.Scanner)
	require.NoError(t, err)
	return string(b)
}

// Attachments whose layers all name one large blob cost that blob once;
// more layers than are read, or more bytes in all than are read, is no way
// to make a judgement read without end: the first is refused, the second
// fails closed.
func TestAttachmentReadsAreBounded(t *testing.T) {
	v := fixtureVerifier(t, `keys: [keys/cosign.pub]`)
	d := sha([]byte("image"))
	src := newBlobSource()
	big := bytes.Repeat([]byte("x"), 4<<20)
	dsse := func(b []byte) layer { return layer{mediaType: sigverify.DSSEMediaType, blob: b} }
	many := make([]layer, maxSigLayers)
	for i := range many {
		many[i] = dsse(big)
	}
	s := &Subject{Repository: "r.example/web", Digest: d, Source: src, Attachments: []Attachment{
		attach(t, src, d, "sha256-"+d.Hex+".att", many...)}}
	_, rejected, err := v.Attestations(context.Background(), s, "")
	require.NoError(t, err)
	assert.Len(t, rejected, maxSigLayers)
	assert.Len(t, src.reads, 1, "64 layers naming one blob read it once")

	s.Attachments = []Attachment{attach(t, src, d, "sha256-"+d.Hex+".att", append(many, dsse(big))...)}
	_, rejected, err = v.Attestations(context.Background(), s, "")
	require.NoError(t, err)
	require.Len(t, rejected, 1)
	assert.Contains(t, rejected[0].Reason, "holds 65 layers, more than the 64 read")

	var distinct []layer
	for i := range 5 {
		distinct = append(distinct, dsse(append(bytes.Repeat([]byte("y"), 15<<20), byte(i))))
	}
	s.Attachments = []Attachment{attach(t, src, d, "sha256-"+d.Hex+".att", distinct...)}
	_, _, err = v.Attestations(context.Background(), s, "")
	assert.ErrorContains(t, err, "more than 64 MiB of signatures and attestations")
}
