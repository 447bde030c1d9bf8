//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type plannedBlob struct {
	Digest string `json:"digest"`
	Action string `json:"action"`
	From   string `json:"from"`
}

// TestWarmRegistryMountsFromEarlierPromotions: prod's registry (the real
// distribution registry, which keeps blobs per repository and serves
// cross-repository mounts) already holds web's layer in prod/web; api is
// built on the same layer, so promoting api to prod mounts it from prod/web
// and uploads only api's config. A hint that went stale falls back to an
// upload.
func TestWarmRegistryMountsFromEarlierPromotions(t *testing.T) {
	p := newPipeline(t)
	web := p.pushImage(p.repo("dev", "web")+":1.0.0", image{})
	p.crane("mutate", p.repo("dev", "web")+"@"+web, "--label", "org.opencontainers.image.version=2.0.0",
		"-t", p.repo("dev", "api")+":2.0.0")
	p.crane("mutate", p.repo("dev", "web")+"@"+web, "--label", "org.opencontainers.image.version=3.0.0",
		"-t", p.repo("dev", "cli")+":3.0.0")
	for _, ref := range []string{"web:1.0.0", "api:2.0.0", "cli:3.0.0"} {
		p.mustPromote(0, "to", "test", ref)
	}
	p.mustPromote(0, "to", "prod", "web")

	r, doc := p.promoteJSON("to", "prod", "api")
	if r.Code != 0 {
		t.Fatalf("promote api: %s", r)
	}
	var res struct {
		promotion
		Plan struct {
			Blobs []plannedBlob `json:"blobs"`
		} `json:"plan"`
	}
	decodeResult(t, doc, &res)
	mounted := 0
	for _, b := range res.Plan.Blobs {
		if b.Action == "mount" {
			mounted++
			if b.From != p.repo("prod", "web") {
				t.Errorf("blob %s mounted from %q, expected %s", b.Digest, b.From, p.repo("prod", "web"))
			}
		}
	}
	if mounted != 1 || res.Copy.BlobsMounted != 1 || res.Copy.BlobsCopied != 1 {
		t.Fatalf("expected the shared layer mounted and only the config copied; plan %+v copy %+v", res.Plan.Blobs, res.Copy)
	}
	if layer := p.layerOf(p.repo("prod", "api") + ":2.0.0"); !p.blobInRepo(p.B, "prod/api", layer) {
		t.Fatalf("layer %s is not linked into prod/api", layer)
	}

	// A stale location: the cache names a repository that never held it.
	layer := p.layerOf(p.repo("test", "cli") + ":3.0.0")
	hint := filepath.Join(p.home, ".cache", "promote", "blobs", strings.ReplaceAll(p.B.Host, ":", "_"), "sha256", strings.TrimPrefix(layer, "sha256:"))
	if err := os.WriteFile(hint, []byte("prod/nowhere\n"), 0o600); err != nil {
		t.Fatalf("planting a stale hint (is the cache where docs/faults.md says?): %v", err)
	}
	r, doc = p.promoteJSON("to", "prod", "cli")
	if r.Code != 0 {
		t.Fatalf("a stale hint must fall back to an upload: %s", r)
	}
	decodeResult(t, doc, &res)
	if !p.blobInRepo(p.B, "prod/cli", layer) {
		t.Fatalf("layer %s is not in prod/cli after the fallback", layer)
	}
}

// layerOf returns the digest of the only layer of the image ref names.
func (p *pipeline) layerOf(ref string) string {
	p.t.Helper()
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(p.crane("manifest", ref)), &m); err != nil || len(m.Layers) != 1 {
		p.t.Fatalf("manifest of %s: %v (%d layers)", ref, err, len(m.Layers))
	}
	return m.Layers[0].Digest
}

// blobInRepo reports whether the registry's storage links digest into repo
// (distribution keeps one link file per repository and layer).
func (p *pipeline) blobInRepo(reg *registry, repo, digest string) bool {
	link := filepath.Join(reg.Dir, "data", "docker", "registry", "v2", "repositories", repo, "_layers", "sha256",
		strings.TrimPrefix(digest, "sha256:"), "link")
	_, err := os.Stat(link)
	return err == nil
}
