//go:build integration

package integration

import (
	"strings"
	"testing"
)

// A two-platform index built with crane and signed with cosign in dev goes
// dev -> test (same registry: blobs mounted) -> prod (another registry: blobs
// copied). Prod holds the same digest and the same manifest bytes, and the
// signature verifies there: it travelled two hops.
func TestPipelineWithCraneAndCosign(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.keyPair()
	dev, test, prod := p.repo("dev", "web"), p.repo("test", "web"), p.repo("prod", "web")

	d := p.pushIndex(dev+":1.0.0", image{Version: "1.0.0"})
	p.sign(key, dev, d)
	if out, ok := p.verify(pub, dev, d); !ok {
		t.Fatalf("the signature made in dev does not verify in dev (test setup):\n%s", out)
	}

	r, doc := p.promoteJSON("to", "test", "web:1.0.0")
	if r.Code != 0 {
		t.Fatalf("promote to test web:1.0.0 should succeed:\n%s", r)
	}
	var hop1 promotion
	decodeResult(t, doc, &hop1)
	if hop1.Digest != d {
		t.Errorf("dev->test promoted digest %s, expected the index pushed to dev %s", hop1.Digest, d)
	}
	if hop1.Copy == nil {
		t.Fatalf("dev->test result has no copy statistics:\n%s", r)
	}
	if hop1.Copy.BlobsMounted == 0 || hop1.Copy.Bytes != 0 {
		t.Errorf("dev->test is within registry A: expected blobs mounted across repositories and 0 bytes copied, got %+v", *hop1.Copy)
	}
	if hop1.Record == nil || hop1.Record.Kind != "promotion" {
		t.Errorf("dev->test result should carry a promotion record, got %+v", hop1.Record)
	}
	if got := p.digest(test + ":1.0.0"); got != d {
		t.Errorf("test:1.0.0 names %s, expected %s", got, d)
	}
	if out, ok := p.verify(pub, test, d); !ok {
		t.Errorf("the signature did not travel dev -> test: cosign verify in test failed:\n%s", out)
	}

	r, doc = p.promoteJSON("to", "prod", "web")
	if r.Code != 0 {
		t.Fatalf("promote to prod web (test's current digest) should succeed:\n%s", r)
	}
	var hop2 promotion
	decodeResult(t, doc, &hop2)
	if hop2.Digest != d {
		t.Errorf("test->prod promoted digest %s, expected %s", hop2.Digest, d)
	}
	if hop2.Copy == nil || hop2.Copy.BlobsCopied == 0 || hop2.Copy.Bytes == 0 {
		t.Errorf("test->prod crosses registries: expected blobs copied, got %+v", hop2.Copy)
	}

	if got := p.digest(prod + ":1.0.0"); got != d {
		t.Errorf("prod:1.0.0 names %s, expected the dev digest %s", got, d)
	}
	devManifest := p.crane("manifest", dev+"@"+d)
	prodManifest := p.crane("manifest", prod+":1.0.0")
	if devManifest != prodManifest {
		t.Errorf("prod's manifest differs from dev's byte for byte (re-serialised?):\ndev:  %s\nprod: %s", devManifest, prodManifest)
	}
	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		dc := p.crane("config", dev+"@"+d, "--platform", plat)
		pc := p.crane("config", prod+"@"+d, "--platform", plat)
		if dc != pc {
			t.Errorf("%s config differs between dev and prod:\ndev:  %s\nprod: %s", plat, dc, pc)
		}
	}
	if out, ok := p.verify(pub, prod, d); !ok {
		t.Errorf("cosign verify --key on the prod digest failed; the signature did not travel two hops:\n%s", out)
	}
	p.verifyLedger()
}

// An immutable tag never moves: the same command again is an idempotent
// success with nothing to do; a rebuilt dev tag that now names another digest
// is a conflict (exit 4) that names the tag and digest and changes nothing.
func TestImmutableTagRefusedAndIdempotent(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev, test := p.repo("dev", "web"), p.repo("test", "web")

	first := p.pushImage(dev+":1.0", image{Version: "1.0"})
	p.mustPromote(0, "to", "test", "web:1.0")
	if got := p.digest(test + ":1.0"); got != first {
		t.Fatalf("test:1.0 names %s after the promotion, expected %s", got, first)
	}

	r, doc := p.promoteJSON("to", "test", "web:1.0")
	if r.Code != 0 {
		t.Fatalf("promoting the same tag and digest again should succeed (idempotent):\n%s", r)
	}
	var again promotion
	decodeResult(t, doc, &again)
	if !again.NothingToDo {
		t.Errorf("second identical promotion should report nothingToDo true:\n%s", r)
	}
	if n := len(p.history("web", "--env", "test", "--kind", "promotion")); n != 1 {
		t.Errorf("the idempotent re-run should record nothing: %d promotion records in test, expected 1", n)
	}

	second := p.pushImage(dev+":1.0", image{Version: "1.0"}) // dev is mutable: rebuilt under the same tag
	if second == first {
		t.Fatalf("the rebuilt image has the same digest %s (test setup)", first)
	}
	r, doc = p.promoteJSON("to", "test", "web:1.0")
	if r.Code != 4 {
		t.Fatalf("expected exit 4 (conflict: test:1.0 already names %s), got:\n%s", first, r)
	}
	if !strings.Contains(doc.Error, "1.0") || !strings.Contains(doc.Error, first) {
		t.Errorf("the conflict error should name tag 1.0 and the digest it names (%s), got %q", first, doc.Error)
	}
	if got := p.digest(test + ":1.0"); got != first {
		t.Errorf("the immutable tag moved: test:1.0 names %s, expected still %s", got, first)
	}
	if p.hasManifest(test, second) {
		t.Errorf("a conflict must change nothing, yet the rebuilt manifest %s was written to test", second)
	}
	text := p.mustPromote(4, "to", "test", "web:1.0")
	if !strings.Contains(text.Stderr, "1.0") || !strings.Contains(text.Stderr, first) {
		t.Errorf("text-mode conflict message should name the tag and digest on stderr:\n%s", text)
	}
	p.verifyLedger()
}
