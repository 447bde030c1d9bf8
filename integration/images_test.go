//go:build integration

package integration

import (
	"archive/tar"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// image describes an image to build with crane.
type image struct {
	Version  string // org.opencontainers.image.version
	User     string // config User; "" means 65532 (non-root)
	Platform string // os/arch; "" means linux/amd64
}

// crane runs the real crane CLI (--insecure: the registries speak plain HTTP)
// and fails the test unless it succeeds.
func (p *pipeline) crane(args ...string) string {
	p.t.Helper()
	out, errOut, code := run(context.Background(), p.dir, toolEnv(p.home), p.tools.crane, append(args, "--insecure")...)
	if code != 0 {
		p.t.Fatalf("crane %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// cosign runs the real cosign CLI in the test's directory.
func (p *pipeline) cosign(args ...string) (string, string, int) {
	return run(context.Background(), p.dir, toolEnv(p.home), p.tools.cosign, args...)
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// layerTar writes a small tar with content unique to this call, so every
// image built is distinct.
func (p *pipeline) layerTar() string {
	p.t.Helper()
	f, err := os.CreateTemp(p.dir, "layer-*.tar")
	if err != nil {
		p.t.Fatalf("creating layer tar: %v", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	files := map[string]string{
		"app/id":     randomHex(p.t, 16) + "\n",
		"app/run.sh": "#!/bin/sh\necho hello\n",
	}
	for _, name := range []string{"app/id", "app/run.sh"} {
		body := files[name]
		hdr := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			p.t.Fatalf("writing tar header: %v", err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			p.t.Fatalf("writing tar body: %v", err)
		}
	}
	if err := tw.Close(); err != nil {
		p.t.Fatalf("closing tar: %v", err)
	}
	return f.Name()
}

// pushImage builds one image with crane (append a layer, then mutate labels,
// user and platform) and tags it ref; it returns the image's digest.
func (p *pipeline) pushImage(ref string, img image) string {
	p.t.Helper()
	if img.User == "" {
		img.User = "65532"
	}
	if img.Platform == "" {
		img.Platform = "linux/amd64"
	}
	if img.Version == "" {
		img.Version = "1.0.0"
	}
	p.crane("append", "--oci-empty-base", "-f", p.layerTar(), "-t", ref)
	p.crane("mutate", ref,
		"--label", "org.opencontainers.image.source=https://example.com/acme/web",
		"--label", "org.opencontainers.image.revision="+randomHex(p.t, 20),
		"--label", "org.opencontainers.image.version="+img.Version,
		"--user", img.User, "--set-platform", img.Platform, "-t", ref)
	return p.digest(ref)
}

// pushIndex builds a linux/amd64 + linux/arm64 index with crane index append
// from two images built in a scratch repository, tags it ref and returns its
// digest.
func (p *pipeline) pushIndex(ref string, img image) string {
	p.t.Helper()
	scratch := p.A.Host + "/build/" + randomHex(p.t, 4)
	var children []string
	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		one := img
		one.Platform = plat
		child := scratch + ":" + strings.ReplaceAll(plat, "/", "-")
		d := p.pushImage(child, one)
		children = append(children, "-m", scratch+"@"+d)
	}
	p.crane(append(append([]string{"index", "append"}, children...), "-t", ref)...)
	d := p.digest(ref)
	if m := p.crane("manifest", ref); !strings.Contains(m, `"architecture":"arm64"`) || !strings.Contains(m, `"architecture":"amd64"`) {
		p.t.Fatalf("index %s lacks one of its two platforms:\n%s", ref, m)
	}
	return d
}

// digest returns the digest ref names, read with crane digest.
func (p *pipeline) digest(ref string) string {
	p.t.Helper()
	d := strings.TrimSpace(p.crane("digest", ref))
	if !strings.HasPrefix(d, "sha256:") {
		p.t.Fatalf("crane digest %s printed %q, expected sha256:...", ref, d)
	}
	return d
}

// tags lists repo's tags with crane ls; a repository that does not exist
// has none.
func (p *pipeline) tags(repo string) []string {
	p.t.Helper()
	out, errOut, code := run(context.Background(), p.dir, toolEnv(p.home), p.tools.crane, "ls", repo, "--insecure")
	if code != 0 {
		if strings.Contains(errOut, "NAME_UNKNOWN") {
			return nil
		}
		p.t.Fatalf("crane ls %s: exit %d\n%s%s", repo, code, out, errOut)
	}
	return strings.Fields(out)
}

// hasManifest reports whether repo holds a manifest for digest; an unknown
// manifest or repository is false, any other failure fails the test.
func (p *pipeline) hasManifest(repo, digest string) bool {
	p.t.Helper()
	out, errOut, code := run(context.Background(), p.dir, toolEnv(p.home), p.tools.crane, "manifest", repo+"@"+digest, "--insecure")
	switch {
	case code == 0:
		return true
	case strings.Contains(errOut, "MANIFEST_UNKNOWN"), strings.Contains(errOut, "NAME_UNKNOWN"):
		return false
	}
	p.t.Fatalf("crane manifest %s@%s: exit %d\n%s%s", repo, digest, code, out, errOut)
	return false
}

// hasTag reports whether repo lists tag.
func (p *pipeline) hasTag(repo, tag string) bool {
	for _, x := range p.tags(repo) {
		if x == tag {
			return true
		}
	}
	return false
}

// keyPair generates a cosign key pair (empty password) in the test's
// directory and returns the paths of the private and public keys.
func (p *pipeline) keyPair() (key, pub string) {
	p.t.Helper()
	out, errOut, code := p.cosign("generate-key-pair")
	key, pub = filepath.Join(p.dir, "cosign.key"), filepath.Join(p.dir, "cosign.pub")
	if code != 0 {
		p.t.Fatalf("cosign generate-key-pair: exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range []string{key, pub} {
		if _, err := os.Stat(f); err != nil {
			p.t.Fatalf("cosign generate-key-pair did not write %s: %v", f, err)
		}
	}
	return key, pub
}

// sign signs repo@digest with key offline (no transparency log).
func (p *pipeline) sign(key, repo, digest string) {
	p.t.Helper()
	ref := repo + "@" + digest
	out, errOut, code := p.cosign("sign", "--key", key, "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	if code != 0 {
		p.t.Fatalf("cosign sign %s: exit %d\n%s%s", ref, code, out, errOut)
	}
}

// verify checks repo@digest's signature against pub; it returns cosign's
// output and whether it succeeded.
func (p *pipeline) verify(pub, repo, digest string) (string, bool) {
	out, errOut, code := p.cosign("verify", "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", repo+"@"+digest)
	return fmt.Sprintf("exit %d\n%s%s", code, out, errOut), code == 0
}
