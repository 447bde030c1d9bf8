package gates

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/sigverify"
)

// The signed gate end to end over a Subject whose attachments are what the
// real cosign CLI pushed (fixtures), read through an in-memory Source.
func TestSignedEvaluateCosignFixtures(t *testing.T) {
	g := signedGateFrom(t, `keys: [keys/other.pub, keys/cosign.pub]`, signedFixtures)
	v2, v3 := signedFixtureDigest(t, "v2"), signedFixtureDigest(t, "v3")

	cases := []struct {
		name     string
		digest   v1.Hash
		attach   func(src *blobSource, d v1.Hash) []Attachment
		pass     bool
		reason   string
		evidence map[string]any
	}{
		{name: "cosign v2 legacy signature", digest: v2, pass: true,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{fixtureAttachment(t, src, d, "v2", "sig.manifest.json", "sig.payload.json")}
			},
			reason:   "signed by keys/cosign.pub (cosign legacy signature sha256:",
			evidence: map[string]any{"format": "cosign-legacy", "key": "keys/cosign.pub", "candidates": 1}},
		{name: "cosign v2 --new-bundle-format", digest: v2, pass: true,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{fixtureAttachment(t, src, d, "v2", "sign.bundle.manifest.json", "sign.bundle.json")}
			},
			reason: "signed by keys/cosign.pub (sigstore bundle sha256:", evidence: map[string]any{"format": "sigstore-bundle"}},
		{name: "cosign v3 bundle, beside its vulnerability attestation and a legacy signature", digest: v3, pass: true,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{
					fixtureAttachment(t, src, d, "v3", "vuln.bundle.manifest.json", "vuln.bundle.json"),
					fixtureAttachment(t, src, d, "v3", "sign.bundle.manifest.json", "sign.bundle.json"),
					fixtureAttachment(t, src, d, "v3", "sig.manifest.json", "sig.payload.json"),
				}
			},
			reason: "signed by keys/cosign.pub (sigstore bundle sha256:", evidence: map[string]any{"candidates": 3, "verified": 2}},
		{name: "only a vulnerability attestation", digest: v3,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{fixtureAttachment(t, src, d, "v3", "vuln.bundle.manifest.json", "vuln.bundle.json")}
			},
			reason: "no valid signature: 1 candidate: sha256:"},
		{name: "v3's signature copied under v2's .sig tag", digest: v2,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{fixtureAttachment(t, src, d, "v3", "sig.manifest.json", "sig.payload.json")}
			},
			reason: "signs " + sigverify.Short(v3.String()) + ", not this digest"},
		{name: "unsigned, but attested", digest: v2,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				return []Attachment{fixtureAttachment(t, src, d, "v2", "att.manifest.json", "att.envelope.json")}
			},
			reason: "no signature attached to " + sigverify.Short(v2.String()), evidence: map[string]any{"candidates": 0}},
		{name: "tampered payload", digest: v2,
			attach: func(src *blobSource, d v1.Hash) []Attachment {
				m, err := v1.ParseManifest(strings.NewReader(string(signedFixture(t, "v2", "sig.manifest.json"))))
				require.NoError(t, err)
				payload := strings.Replace(string(signedFixture(t, "v2", "sig.payload.json")), `"optional":null`, `"optional":{"tampered":"yes"}`, 1)
				return []Attachment{attach(t, src, d, "sha256-"+d.Hex+".sig", layer{mediaType: sigverify.SimpleSigningMediaType, blob: []byte(payload), annotations: m.Layers[0].Annotations})}
			},
			reason: "signature does not verify with any key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := newBlobSource()
			s := &Subject{Repository: "registry.example/dev/web", Digest: c.digest, Source: src, Attachments: c.attach(src, c.digest)}
			v, err := g.Evaluate(context.Background(), s)
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
			for k, want := range c.evidence {
				assert.Equal(t, want, v.Evidence[k], "evidence %s", k)
			}
			for _, r := range src.reads {
				assert.True(t, strings.HasPrefix(r, "registry.example/dev/web@"), "blobs are read from the subject's repository: %s", r)
			}
		})
	}
}

// Which attachments are candidates, what is read, and what a registry
// failure does.
func TestSignedEvaluateCollects(t *testing.T) {
	dir := t.TempDir()
	k := newECKey(t, dir, "keys/release.pub")
	g := signedGateFrom(t, `keys: [keys/release.pub]`, dir)
	index, child := sha([]byte("index")), sha([]byte("amd64"))
	subject := func(src *blobSource, atts ...Attachment) *Subject {
		return &Subject{Repository: "r.example/app", Digest: index, MediaType: types.OCIImageIndex, Source: src,
			Images: []Image{{Digest: child}}, Attachments: atts}
	}

	t.Run("a signature on a platform image alone does not count", func(t *testing.T) {
		src := newBlobSource()
		v, err := g.Evaluate(context.Background(), subject(src, attach(t, src, child, "sha256-"+child.Hex+".sig", k.sigLayer(t, simpleSigning(child)))))
		require.NoError(t, err)
		assert.False(t, v.Passed())
		assert.Equal(t, "no signature attached to "+sigverify.Short(index.String())+"; 1 on platform images do not count: sign the index digest", v.Reason)
		assert.Empty(t, src.reads, "signatures of other digests are not read")
	})
	t.Run("a signature on the index counts", func(t *testing.T) {
		src := newBlobSource()
		sig := attach(t, src, index, "sha256-"+index.Hex+".sig", k.sigLayer(t, simpleSigning(index)))
		v, err := g.Evaluate(context.Background(), subject(src, sig, sig)) // listed twice: judged once
		require.NoError(t, err)
		assert.True(t, v.Passed(), v.Reason)
		assert.Equal(t, 1, v.Evidence["candidates"])
		assert.Equal(t, sig.Digest.String(), v.Evidence["signature"])
	})
	t.Run("each layer of a .sig manifest is a candidate", func(t *testing.T) {
		src := newBlobSource()
		other := newECKey(t, t.TempDir(), "other.pub")
		sig := attach(t, src, index, "sha256-"+index.Hex+".sig", other.sigLayer(t, simpleSigning(index)), k.sigLayer(t, simpleSigning(index)))
		v, err := g.Evaluate(context.Background(), subject(src, sig))
		require.NoError(t, err)
		assert.True(t, v.Passed(), v.Reason)
		assert.Equal(t, 2, v.Evidence["candidates"])
		assert.Equal(t, []map[string]string{{"signature": sig.Digest.String(), "layer": "0", "format": "cosign-legacy", "reason": "signature does not verify with any key"}}, v.Evidence["rejected"])
	})
	t.Run("an oversized layer is refused unread", func(t *testing.T) {
		src := newBlobSource()
		big := k.sigLayer(t, append(simpleSigning(index), make([]byte, maxSignatureBytes)...))
		v, err := g.Evaluate(context.Background(), subject(src, attach(t, src, index, "sha256-"+index.Hex+".sig", big)))
		require.NoError(t, err)
		assert.False(t, v.Passed())
		assert.Contains(t, v.Reason, "exceeds the 1048576-byte limit")
		assert.Empty(t, src.reads)
	})
	t.Run("a bundle referrer of another media type is refused", func(t *testing.T) {
		src := newBlobSource()
		v, err := g.Evaluate(context.Background(), subject(src, attach(t, src, index, "", layer{mediaType: "text/plain", blob: []byte("hi")})))
		require.NoError(t, err)
		assert.False(t, v.Passed())
		assert.Contains(t, v.Reason, "layer media type \"text/plain\" holds no sigstore-bundle")
	})
	t.Run("a registry failure is an error, not a rejection", func(t *testing.T) {
		src := newBlobSource()
		sig := attach(t, src, index, "sha256-"+index.Hex+".sig", k.sigLayer(t, simpleSigning(index)))
		src.fail = errors.New("503 Service Unavailable")
		_, err := g.Evaluate(context.Background(), subject(src, sig))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "503 Service Unavailable")
		assert.Contains(t, err.Error(), sig.Digest.String())
	})
	t.Run("no registry access is an error", func(t *testing.T) {
		src := newBlobSource()
		s := subject(src, attach(t, src, index, "sha256-"+index.Hex+".sig", k.sigLayer(t, simpleSigning(index))))
		s.Source = nil
		_, err := g.Evaluate(context.Background(), s)
		assert.ErrorContains(t, err, "no registry access")
	})
}
