package gates

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/sigverify"
	"github.com/promote-dev/promote/sigverify/sigtest"
)

// The signed gate's decision over candidates already read: no registry.
func TestSignedJudge(t *testing.T) {
	dir := t.TempDir()
	release, backup := newECKey(t, dir, "keys/release.pub"), newECKey(t, dir, "keys/backup.pub")
	stranger := newECKey(t, dir, "keys/stranger.pub")
	g := signedGateFrom(t, `keys: [keys/release.pub, keys/backup.pub]`, dir).(signedGate)
	digest, other := sha([]byte("subject")), sha([]byte("other"))

	cand := func(format string, l layer) sigCandidate {
		return sigCandidate{Manifest: sha(append([]byte(format), l.blob...)), Layers: 1, Format: format, Blob: l.blob, Annotations: l.annotations}
	}
	legacy := func(l layer) sigCandidate { return cand(sigverify.FormatLegacy, l) }
	bundle := func(l layer) sigCandidate { return cand(sigverify.FormatBundle, l) }
	tampered := release.sigLayer(t, simpleSigning(digest))
	tampered.blob = simpleSigning(other)
	vuln := bundle(release.bundleLayer(t, digest, sigverify.VulnPredicateType))
	good := legacy(release.sigLayer(t, simpleSigning(digest)))
	wrongKey := legacy(stranger.sigLayer(t, simpleSigning(digest)))
	copied := legacy(release.sigLayer(t, simpleSigning(other)))

	cases := []struct {
		name      string
		cands     []sigCandidate
		elsewhere int
		pass      bool
		reason    string
		evidence  map[string]any
	}{
		{name: "unsigned", reason: "no signature attached to " + sigverify.Short(digest.String()),
			evidence: map[string]any{"candidates": 0}},
		{name: "signed only on platform images", elsewhere: 2,
			reason:   "no signature attached to " + sigverify.Short(digest.String()) + "; 2 on platform images do not count: sign the index digest",
			evidence: map[string]any{"platformSignatures": 2}},
		{name: "legacy signature by the first key", cands: []sigCandidate{good}, pass: true,
			reason:   "signed by keys/release.pub (cosign legacy signature " + sigverify.Short(good.Manifest.String()) + ")",
			evidence: map[string]any{"format": "cosign-legacy", "key": "keys/release.pub", "signature": good.Manifest.String(), "verified": 1}},
		{name: "legacy signature by the second key", cands: []sigCandidate{legacy(backup.sigLayer(t, simpleSigning(digest)))}, pass: true,
			reason: "signed by keys/backup.pub (cosign legacy signature", evidence: map[string]any{"key": "keys/backup.pub"}},
		{name: "bundle signature", cands: []sigCandidate{bundle(release.bundleLayer(t, digest, sigverify.SignPredicateType))}, pass: true,
			reason: "signed by keys/release.pub (sigstore bundle", evidence: map[string]any{"format": "sigstore-bundle"}},
		{name: "wrong key", cands: []sigCandidate{wrongKey},
			reason: "no valid signature: 1 candidate: " + sigverify.Short(wrongKey.Manifest.String()) + ": signature does not verify with any key"},
		{name: "tampered payload", cands: []sigCandidate{legacy(tampered)}, reason: "signature does not verify with any key"},
		{name: "signature of another digest", cands: []sigCandidate{copied},
			reason: "no valid signature: 1 candidate: " + sigverify.Short(copied.Manifest.String()) + ": signs " + sigverify.Short(other.String()) + ", not this digest"},
		{name: "two bad candidates", cands: []sigCandidate{wrongKey, copied},
			reason: "no valid signature: 2 candidates: " + sigverify.Short(wrongKey.Manifest.String()) + ": signature does not verify with any key; " +
				sigverify.Short(copied.Manifest.String()) + ": signs " + sigverify.Short(other.String()) + ", not this digest",
			evidence: map[string]any{"candidates": 2}},
		{name: "a vulnerability attestation is no signature", cands: []sigCandidate{vuln},
			reason: ": a " + sigverify.VulnPredicateType + " attestation, not a signature"},
		{name: "an attestation beside a signature", cands: []sigCandidate{vuln, good}, pass: true,
			reason: "signed by keys/release.pub (cosign legacy signature", evidence: map[string]any{"candidates": 2, "verified": 1}},
		{name: "refused unread", cands: []sigCandidate{{Manifest: other, Layers: 1, Format: sigverify.FormatLegacy, Refused: "layer of 9999999 bytes exceeds the 1048576-byte limit"}},
			reason: "exceeds the 1048576-byte limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := judgeSignatures(g.v.v, digest, c.cands, c.elsewhere)
			assert.Equal(t, SignedGate, v.Name)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
			assert.NotContains(t, v.Reason, "\n")
			assert.Equal(t, digest.String(), v.Evidence["digest"])
			assert.Equal(t, len(c.cands), v.Evidence["candidates"])
			for k, want := range c.evidence {
				assert.Equal(t, want, v.Evidence[k], "evidence %s", k)
			}
			if c.pass {
				assert.Len(t, v.Evidence["keyId"], 16)
			}
			rejected, _ := v.Evidence["rejected"].([]map[string]string)
			verified, _ := v.Evidence["verified"].(int)
			assert.Equal(t, len(c.cands), len(rejected)+verified, "every candidate is either verified or rejected with a reason")
		})
	}
}

// Keyless: the gate names the identity that verified, from a bundle or a
// legacy signature, and says which certificate identity did not match.
func TestSignedJudgeKeyless(t *testing.T) {
	const issuer = "https://token.actions.githubusercontent.com"
	const workflow = "https://github.com/acme/web/.github/workflows/release.yml@refs/heads/main"
	vs := sigtest.New(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted_root.json"), vs.TrustedRootJSON(t, false), 0o644))
	g := signedGateFrom(t, `
identities:
  - {issuer: https://token.actions.githubusercontent.com, subject: 'https://github.com/acme/.+@refs/heads/main'}
trustedRoot: trusted_root.json`, dir).(signedGate)
	digest := sha([]byte("subject"))
	statement := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q,"predicate":{}}`, digest.Hex, sigverify.SignPredicateType)

	bundle := sigCandidate{Manifest: sha([]byte("b")), Layers: 1, Format: sigverify.FormatBundle, Blob: vs.Bundle(t, workflow, issuer, statement)}
	v := judgeSignatures(g.v.v, digest, []sigCandidate{bundle}, 0)
	require.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "signed by "+workflow+" (issuer "+issuer+") (sigstore bundle "+sigverify.Short(bundle.Manifest.String())+")", v.Reason)
	assert.Equal(t, issuer, v.Evidence["issuer"])
	assert.Equal(t, workflow, v.Evidence["subject"])
	assert.NotContains(t, v.Evidence, "key")

	payload := simpleSigning(digest)
	legacy := sigCandidate{Manifest: sha([]byte("l")), Layers: 1, Format: sigverify.FormatLegacy, Blob: payload,
		Annotations: vs.LegacyAnnotations(t, workflow, issuer, payload)}
	v = judgeSignatures(g.v.v, digest, []sigCandidate{legacy}, 0)
	require.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "cosign-legacy", v.Evidence["format"])
	assert.Equal(t, workflow, v.Evidence["subject"])

	fork := sigCandidate{Manifest: sha([]byte("f")), Layers: 1, Format: sigverify.FormatBundle,
		Blob: vs.Bundle(t, "https://github.com/fork/web/.github/workflows/release.yml@refs/heads/main", issuer, statement)}
	v = judgeSignatures(g.v.v, digest, []sigCandidate{fork}, 0)
	assert.False(t, v.Passed())
	assert.Contains(t, v.Reason, "certificate identity https://github.com/fork/web/.github/workflows/release.yml@refs/heads/main (issuer "+issuer+") matches no trusted identity")
}
