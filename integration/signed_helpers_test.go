//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// How a test signs an image, offline, with the real cosign CLIs:
//
//	v2-legacy  cosign v2.6.5 sign --tlog-upload=false            (sha256-<hex>.sig tag)
//	v2-bundle  cosign v2.6.5 sign --tlog-upload=false --new-bundle-format  (bundle referrer)
//	v3-bundle  cosign v3.1.3 sign --signing-config <no services>  (bundle referrer)
//	v3-legacy  cosign v3.1.3 sign --use-signing-config=false --new-bundle-format=false --tlog-upload=false (.sig tag)
const (
	v2Legacy = "v2-legacy"
	v2Bundle = "v2-bundle"
	v3Bundle = "v3-bundle"
	v3Legacy = "v3-legacy"
)

// cosign3Path finds cosign v3, installed as cosign3 beside cosign v2.
func (p *pipeline) cosign3Path() string {
	p.t.Helper()
	bin, err := exec.LookPath("cosign3")
	if err != nil {
		p.t.Fatalf("cosign3 (cosign v3.1.3) not found in PATH: run `make tools`, which installs it into .tools/bin, and put .tools/bin on PATH")
	}
	return bin
}

// cosign3 runs cosign v3 in the test's directory.
func (p *pipeline) cosign3(args ...string) (string, string, int) {
	return run(context.Background(), p.dir, toolEnv(p.home), p.cosign3Path(), args...)
}

// namedKeyPair generates a cosign key pair (empty password) named
// prefix.key and prefix.pub in the test's directory.
func (p *pipeline) namedKeyPair(prefix string) (key, pub string) {
	p.t.Helper()
	out, errOut, code := p.cosign("generate-key-pair", "--output-key-prefix", prefix)
	if code != 0 {
		p.t.Fatalf("cosign generate-key-pair --output-key-prefix %s: exit %d\n%s%s", prefix, code, out, errOut)
	}
	return filepath.Join(p.dir, prefix+".key"), filepath.Join(p.dir, prefix+".pub")
}

// offlineSigningConfig writes (once) a cosign v3 signing config with no
// Fulcio, OIDC, Rekor or TSA: cosign v3 then signs with a key and uploads
// nothing but the bundle.
func (p *pipeline) offlineSigningConfig() string {
	p.t.Helper()
	path := filepath.Join(p.dir, "signing-config.json")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	out, errOut, code := p.cosign3("signing-config", "create", "--no-default-fulcio", "--no-default-oidc", "--no-default-rekor", "--no-default-tsa", "--out", path)
	if code != 0 {
		p.t.Fatalf("cosign3 signing-config create: exit %d\n%s%s", code, out, errOut)
	}
	return path
}

// signAs signs repo@digest with key the way kind names.
func (p *pipeline) signAs(kind, key, repo, digest string) {
	p.t.Helper()
	ref := repo + "@" + digest
	var out, errOut string
	var code int
	switch kind {
	case v2Legacy:
		out, errOut, code = p.cosign("sign", "--key", key, "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	case v2Bundle:
		out, errOut, code = p.cosign("sign", "--key", key, "--tlog-upload=false", "--new-bundle-format", "--allow-http-registry", "--yes", ref)
	case v3Bundle:
		// --trusted-root only spares cosign a TUF lookup; nothing is verified with it.
		out, errOut, code = p.cosign3("sign", "--key", key, "--signing-config", p.offlineSigningConfig(),
			"--trusted-root", filepath.Join(signedRepoRoot(p.t), "testdata", "signed", "trusted_root.json"), "--allow-http-registry", "--yes", ref)
	case v3Legacy:
		out, errOut, code = p.cosign3("sign", "--key", key, "--use-signing-config=false", "--new-bundle-format=false", "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	default:
		p.t.Fatalf("unknown signing kind %q", kind)
	}
	if code != 0 {
		p.t.Fatalf("signing %s (%s): exit %d\n%s%s", ref, kind, code, out, errOut)
	}
}

// attestVuln attaches a vulnerability attestation (`cosign attest --type
// vuln`, testdata/signed/vuln-predicate.json) to repo@digest: cosign v2 writes a
// legacy .att tag, cosign v3 a bundle referrer.
func (p *pipeline) attestVuln(v3 bool, key, repo, digest string) {
	p.t.Helper()
	p.attestVulnPredicate(v3, key, repo, digest, filepath.Join(signedRepoRoot(p.t), "testdata", "signed", "vuln-predicate.json"))
}

// attestVulnPredicate attaches pred as a signed cosign vuln attestation.
func (p *pipeline) attestVulnPredicate(v3 bool, key, repo, digest, pred string) {
	p.t.Helper()
	ref := repo + "@" + digest
	var out, errOut string
	var code int
	if v3 {
		out, errOut, code = p.cosign3("attest", "--key", key, "--type", "vuln", "--predicate", pred, "--signing-config", p.offlineSigningConfig(),
			"--trusted-root", filepath.Join(signedRepoRoot(p.t), "testdata", "signed", "trusted_root.json"), "--allow-http-registry", "--yes", ref)
	} else {
		out, errOut, code = p.cosign("attest", "--key", key, "--type", "vuln", "--predicate", pred, "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	}
	if code != 0 {
		p.t.Fatalf("cosign attest --type vuln %s (v3 %v): exit %d\n%s%s", ref, v3, code, out, errOut)
	}
}

// signedRepoRoot is the module root (the integration package's parent).
func signedRepoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	return filepath.Dir(wd)
}

func signedWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// signedConfig writes a config in a directory of its own, with the given
// public keys copied into its keys/ directory, whose test and prod
// environments run the signed gate trusting those keys (relative paths,
// resolved against the config file's directory).
func (p *pipeline) signedConfig(pubs map[string]string) string {
	p.t.Helper()
	dir := filepath.Join(p.dir, "signed-config")
	var keys []string
	for dst, src := range pubs {
		b, err := os.ReadFile(src)
		if err != nil {
			p.t.Fatalf("reading %s: %v", src, err)
		}
		signedWriteFile(p.t, filepath.Join(dir, "keys", dst), string(b))
		keys = append(keys, "keys/"+dst)
	}
	gate := "signed: {keys: [" + strings.Join(keys, ", ") + "]}"
	return p.writeConfig(filepath.Join(dir, "environments.yaml"), []string{gate}, []string{gate})
}

// signedOutcome promotes ref into env with config (JSON output), expects
// exit want, and returns the signed gate's outcome and the result.
func (p *pipeline) signedOutcome(config, env, ref string, want int) (gateOutcome, promotion) {
	p.t.Helper()
	r := p.promoteWith(config, "--output", "json", "to", env, ref)
	if r.Code != want {
		p.t.Fatalf("expected exit %d:\n%s", want, r)
	}
	var res promotion
	decodeResult(p.t, parseDocument(p.t, r), &res)
	g := gate(res.Gates, "signed")
	if g == nil {
		p.t.Fatalf("no signed gate outcome:\n%s", r)
	}
	return *g, res
}

// signedKeyID is the key ID the gate reports: the first 16 hex characters of the
// SHA-256 of the public key's DER.
func signedKeyID(t *testing.T, pubPath string) string {
	t.Helper()
	b, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatalf("reading %s: %v", pubPath, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s is not PEM", pubPath)
	}
	if _, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
		t.Fatalf("%s: %v", pubPath, err)
	}
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:])[:16]
}

// sigManifest is the digest of repo's legacy signature manifest of digest.
func (p *pipeline) sigManifest(repo, digest string) string {
	p.t.Helper()
	return p.digest(repo + ":" + strings.Replace(digest, ":", "-", 1) + ".sig")
}

// bundleReferrers lists the bundle referrers of digest in repo, through the
// referrers tag schema (sha256-<hex>) that cosign falls back to on a
// registry without the referrers API.
func (p *pipeline) bundleReferrers(repo, digest string) []string {
	p.t.Helper()
	var idx struct {
		Manifests []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	raw := p.crane("manifest", repo+":"+strings.Replace(digest, ":", "-", 1))
	if err := json.Unmarshal([]byte(raw), &idx); err != nil {
		p.t.Fatalf("referrers index of %s@%s: %v\n%s", repo, digest, err, raw)
	}
	var out []string
	for _, m := range idx.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

// tamperSignature rewrites the layer of repo's legacy signature manifest of
// digest with a changed payload, keeping its signature annotation: what an
// attacker with push access could do. It writes with go-containerregistry.
func (p *pipeline) tamperSignature(repo, digest string) {
	p.t.Helper()
	ref, err := name.ParseReference(repo+":"+strings.Replace(digest, ":", "-", 1)+".sig", name.Insecure)
	if err != nil {
		p.t.Fatalf("parsing reference: %v", err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		p.t.Fatalf("reading %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		p.t.Fatalf("manifest of %s: %v", ref, err)
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		p.t.Fatalf("layers of %s: %d, %v", ref, len(ls), err)
	}
	rc, err := ls[0].Compressed()
	if err != nil {
		p.t.Fatalf("reading the payload of %s: %v", ref, err)
	}
	payload, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		p.t.Fatalf("reading the payload of %s: %v", ref, err)
	}
	tampered := strings.Replace(string(payload), `"optional":null`, `"optional":{"tampered":"yes"}`, 1)
	if tampered == string(payload) {
		p.t.Fatalf("payload of %s has no \"optional\":null to tamper with: %s", ref, payload)
	}
	out := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	out = mutate.ConfigMediaType(out, m.Config.MediaType)
	out, err = mutate.Append(out, mutate.Addendum{
		Layer:       static.NewLayer([]byte(tampered), m.Layers[0].MediaType),
		Annotations: m.Layers[0].Annotations,
		MediaType:   m.Layers[0].MediaType,
	})
	if err != nil {
		p.t.Fatalf("building the tampered manifest: %v", err)
	}
	if err := remote.Write(ref, out); err != nil {
		p.t.Fatalf("writing the tampered signature to %s: %v", ref, err)
	}
}
