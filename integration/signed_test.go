//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// signedShort is how a reason abbreviates a digest: sha256: and 12 hex characters.
func signedShort(d string) string { return d[:len("sha256:")+12] + "…" }

// Signatures made offline by the real cosign v2.6.5 and v3.1.3, in both
// formats, pass the signed gate of the real promote binary, which names the
// key, the format and the signature manifest that verified, and the ledger
// keeps that evidence.
func TestSignedGateAcceptsCosignSignatures(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.namedKeyPair("release")
	_, backupPub := p.namedKeyPair("backup")
	cfg := p.signedConfig(map[string]string{"release.pub": pub, "backup.pub": backupPub})

	for _, kind := range []string{v2Legacy, v2Bundle, v3Bundle, v3Legacy} {
		app := strings.ReplaceAll(kind, "-", "")
		dev := p.repo("dev", app)
		d := p.pushImage(dev+":1.0.0", image{})
		p.signAs(kind, key, dev, d)

		format, phrase, sig := "cosign-legacy", "cosign legacy signature", ""
		if strings.HasSuffix(kind, "bundle") {
			format, phrase = "sigstore-bundle", "sigstore bundle"
			refs := p.bundleReferrers(dev, d)
			if len(refs) != 1 {
				t.Fatalf("%s: expected one bundle referrer of %s, found %v", kind, d, refs)
			}
			sig = refs[0]
		} else {
			sig = p.sigManifest(dev, d)
		}

		g, res := p.signedOutcome(cfg, "test", app+":1.0.0", 0)
		if g.Verdict != "pass" {
			t.Fatalf("%s: signed verdict %q (%s), expected pass", kind, g.Verdict, g.Reason)
		}
		if want := fmt.Sprintf("signed by keys/release.pub (%s %s)", phrase, signedShort(sig)); g.Reason != want {
			t.Errorf("%s: reason %q, expected %q", kind, g.Reason, want)
		}
		want := map[string]any{"format": format, "key": "keys/release.pub", "keyId": signedKeyID(t, pub),
			"signature": sig, "digest": d, "candidates": float64(1), "verified": float64(1)}
		for k, v := range want {
			if g.Evidence[k] != v {
				t.Errorf("%s: evidence %s = %v, expected %v (evidence %v)", kind, k, g.Evidence[k], v, g.Evidence)
			}
		}
		if res.Digest != d || p.digest(p.repo("test", app)+":1.0.0") != d {
			t.Errorf("%s: test should hold %s under 1.0.0 (result digest %s)", kind, d, res.Digest)
		}
		recs := p.history(app, "--env", "test", "--kind", "promotion")
		if len(recs) != 1 {
			t.Fatalf("%s: %d promotion records in test, expected 1", kind, len(recs))
		}
		if rg := gate(recs[0].Gates, "signed"); rg == nil || rg.Verdict != "pass" || rg.Evidence["keyId"] != signedKeyID(t, pub) || rg.Evidence["signature"] != sig {
			t.Errorf("%s: the ledger record should keep the signed verdict with its key ID and signature, got %+v", kind, rg)
		}
	}
	p.verifyLedger()
}

// What the signed gate refuses, through the real binary (exit 3): a key it
// does not trust, a tampered payload, a signature of another digest copied
// under this digest's tag, no signature, and a vulnerability attestation in
// place of a signature. Nothing reaches test; the rejection and its
// evidence are recorded.
func TestSignedGateRejects(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.namedKeyPair("release")
	strangerKey, _ := p.namedKeyPair("stranger")
	cfg := p.signedConfig(map[string]string{"release.pub": pub})

	type rejection struct {
		app    string
		digest string
		reason string
		cosign bool // cosign verify --key must refuse it too
	}
	var cases []rejection

	// A key that is not configured.
	dev := p.repo("dev", "wrongkey")
	d := p.pushImage(dev+":1.0.0", image{})
	p.signAs(v2Legacy, strangerKey, dev, d)
	cases = append(cases, rejection{"wrongkey", d, fmt.Sprintf("no valid signature: 1 candidate: %s: signature does not verify with any key", signedShort(p.sigManifest(dev, d))), true})

	// A payload rewritten after signing (the signature annotation kept).
	dev = p.repo("dev", "tampered")
	d = p.pushImage(dev+":1.0.0", image{})
	p.signAs(v2Legacy, key, dev, d)
	if out, ok := p.verify(pub, dev, d); !ok {
		t.Fatalf("the untampered signature should verify (test setup):\n%s", out)
	}
	p.tamperSignature(dev, d)
	cases = append(cases, rejection{"tampered", d, fmt.Sprintf("no valid signature: 1 candidate: %s: signature does not verify with any key", signedShort(p.sigManifest(dev, d))), true})

	// Image B's valid signature copied under image A's sha256-<A>.sig tag.
	dev = p.repo("dev", "copied")
	a := p.pushImage(dev+":1.0.0", image{})
	b := p.pushImage(dev+":other", image{})
	p.signAs(v2Legacy, key, dev, b)
	p.crane("copy", dev+":"+strings.Replace(b, ":", "-", 1)+".sig", dev+":"+strings.Replace(a, ":", "-", 1)+".sig")
	cases = append(cases, rejection{"copied", a, fmt.Sprintf("signs %s, not this digest", signedShort(b)), true})

	// No signature at all.
	dev = p.repo("dev", "unsigned")
	d = p.pushImage(dev+":1.0.0", image{})
	cases = append(cases, rejection{"unsigned", d, "no signature attached to " + signedShort(d), true})

	// A vulnerability attestation (cosign v3, bundle) is not a signature.
	dev = p.repo("dev", "attested")
	d = p.pushImage(dev+":1.0.0", image{})
	p.attestVuln(true, key, dev, d)
	cases = append(cases, rejection{"attested", d, ": a https://cosign.sigstore.dev/attestation/vuln/v1 attestation, not a signature", false})

	for _, c := range cases {
		g, res := p.signedOutcome(cfg, "test", c.app+":1.0.0", 3)
		if g.Verdict != "fail" || !strings.Contains(g.Reason, c.reason) {
			t.Errorf("%s: signed verdict %q %q, expected fail with %q", c.app, g.Verdict, g.Reason, c.reason)
		}
		if res.Digest != c.digest || g.Evidence["digest"] != c.digest {
			t.Errorf("%s: rejected digest %s (evidence %v), expected %s", c.app, res.Digest, g.Evidence["digest"], c.digest)
		}
		if c.app != "unsigned" {
			rej, _ := g.Evidence["rejected"].([]any)
			if len(rej) != 1 || g.Evidence["candidates"] != float64(1) {
				t.Errorf("%s: evidence should count 1 candidate and say why it was rejected: %v", c.app, g.Evidence)
			}
		}
		if p.hasManifest(p.repo("test", c.app), c.digest) {
			t.Errorf("%s: gates before copy: the rejected manifest %s was written to test", c.app, c.digest)
		}
		var rejected *record
		for _, r := range p.history(c.app, "--env", "test") {
			if r.Kind == "rejected" {
				rejected = &r
			}
		}
		if rejected == nil {
			t.Errorf("%s: no rejected record in the ledger", c.app)
		} else if rg := gate(rejected.Gates, "signed"); rg == nil || rg.Verdict != "fail" || rg.Reason != g.Reason {
			t.Errorf("%s: the rejected record should keep the signed verdict and reason, got %+v", c.app, rg)
		}
		if c.cosign {
			if out, ok := p.verify(pub, p.repo("dev", c.app), c.digest); ok {
				t.Errorf("%s: cosign verify --key accepts what the gate refused:\n%s", c.app, out)
			}
		}
	}
	text := p.promoteWith(cfg, "to", "test", "wrongkey:1.0.0")
	if text.Code != 3 || !strings.Contains(text.Stderr, "signed") || !strings.Contains(text.Stderr, "signature does not verify with any key") {
		t.Errorf("text mode: expected exit 3 naming the signed gate and why:\n%s", text)
	}
	p.verifyLedger()
}

// A two-platform index: signatures on its platform images alone do not
// count; signed on the index digest (cosign v2 legacy and cosign v3
// bundle), it goes dev -> test -> prod with the signed gate on both hops,
// the signatures travel with it, and cosign verifies the prod digest.
func TestSignedIndexTwoHops(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.namedKeyPair("release")
	cfg := p.signedConfig(map[string]string{"release.pub": pub})
	dev, test, prod := p.repo("dev", "web"), p.repo("test", "web"), p.repo("prod", "web")
	d := p.pushIndex(dev+":1.0.0", image{})

	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(p.crane("manifest", dev+"@"+d)), &idx); err != nil || len(idx.Manifests) != 2 {
		t.Fatalf("index %s: %v %+v", d, err, idx)
	}
	for _, m := range idx.Manifests {
		p.signAs(v2Legacy, key, dev, m.Digest)
	}
	g, _ := p.signedOutcome(cfg, "test", "web:1.0.0", 3)
	if want := "no signature attached to " + signedShort(d) + "; 2 on platform images do not count: sign the index digest"; g.Reason != want {
		t.Errorf("platform signatures only: reason %q, expected %q", g.Reason, want)
	}
	if g.Evidence["platformSignatures"] != float64(2) {
		t.Errorf("evidence should count the 2 platform signatures: %v", g.Evidence)
	}

	p.signAs(v2Legacy, key, dev, d)
	p.signAs(v3Bundle, key, dev, d)
	g, res := p.signedOutcome(cfg, "test", "web:1.0.0", 0)
	if g.Verdict != "pass" || g.Evidence["verified"] != float64(2) || g.Evidence["candidates"] != float64(2) || g.Evidence["digest"] != d {
		t.Errorf("dev -> test: expected a pass with 2 verified signatures of the index, got %q (%s) %v", g.Verdict, g.Reason, g.Evidence)
	}
	if res.Digest != d {
		t.Errorf("dev -> test promoted %s, expected the index %s", res.Digest, d)
	}

	g, res = p.signedOutcome(cfg, "prod", "web", 0)
	if g.Verdict != "pass" || g.Evidence["verified"] != float64(2) || g.Evidence["key"] != "keys/release.pub" {
		t.Errorf("test -> prod: the signatures should have travelled to test and pass again, got %q (%s) %v", g.Verdict, g.Reason, g.Evidence)
	}
	if res.Digest != d || p.digest(prod+":1.0.0") != d {
		t.Errorf("prod should hold the index %s under 1.0.0", d)
	}
	// cosign v2 sees the bundle referrer and then demands a trusted root,
	// though a key verifies; the pinned one in testdata serves.
	root := filepath.Join(signedRepoRoot(t), "testdata", "signed", "trusted_root.json")
	if out, errOut, code := p.cosign("verify", "--key", pub, "--insecure-ignore-tlog=true", "--trusted-root", root, "--allow-http-registry", prod+"@"+d); code != 0 {
		t.Errorf("cosign v2 verify --key of the prod digest failed: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := p.cosign3("verify", "--key", pub, "--insecure-ignore-tlog", "--allow-http-registry", prod+"@"+d); code != 0 {
		t.Errorf("cosign v3 verify --key of the prod digest failed: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range []string{test, prod} {
		if refs := p.bundleReferrers(r, d); len(refs) != 1 {
			t.Errorf("the v3 bundle should be a referrer of %s in %s, found %v", d, r, refs)
		}
	}
	p.verifyLedger()
}
