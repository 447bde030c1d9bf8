//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rawIndex is an OCI index pushed as its bytes.
type rawIndex []byte

func (r rawIndex) RawManifest() ([]byte, error)        { return r, nil }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// Every image of a nested index is judged, on the real registry, through
// the real binary: an index holding a clean image and an index whose one
// image runs as root is refused (exit 3), the nonroot gate names the nested
// image by digest, and nothing of it reaches test. The same tree, clean,
// is promoted whole, nested index and all.
func TestNestedIndexJudgedOnRealRegistry(t *testing.T) {
	p := newPipeline(t)
	scratch := p.repo("dev", "web") // an index names manifests of its own repository
	nested := func(tag, innerUser string) (outer, inner, buried string) {
		good := p.pushImage(scratch+":"+tag+"-good", image{})
		buried = p.pushImage(scratch+":"+tag+"-buried", image{User: innerUser, Platform: "linux/arm64"})
		p.crane("index", "append", "-m", scratch+"@"+buried, "-t", scratch+":"+tag+"-inner")
		inner = p.digest(scratch + ":" + tag + "-inner")
		ref := p.repo("dev", "web") + ":" + tag
		// crane index append flattens an index it is given: write the
		// outer index by hand, listing the inner index as one entry.
		innerRaw := p.crane("manifest", scratch+"@"+inner)
		goodRaw := p.crane("manifest", scratch+"@"+good)
		body, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": types.OCIImageIndex, "manifests": []map[string]any{
			{"mediaType": types.OCIManifestSchema1, "digest": good, "size": len(goodRaw), "platform": map[string]string{"os": "linux", "architecture": "amd64"}},
			{"mediaType": types.OCIImageIndex, "digest": inner, "size": len(innerRaw)}}})
		if err != nil {
			p.t.Fatal(err)
		}
		r, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			p.t.Fatal(err)
		}
		if err := remote.Put(r, rawIndex(body)); err != nil {
			p.t.Fatalf("pushing the outer index: %v", err)
		}
		if m := p.crane("manifest", ref); !strings.Contains(m, inner) {
			p.t.Fatalf("the outer index does not list the inner one:\n%s", m)
		}
		return p.digest(ref), inner, buried
	}

	_, _, buried := nested("1.0", "0")
	r := p.promote("--output", "json", "to", "test", "web:1.0")
	if r.Code != 3 {
		t.Fatalf("a root image in a nested index must be refused (exit 3):\n%s", r)
	}
	var res promotion
	decodeResult(t, parseDocument(t, r), &res)
	for _, g := range res.Gates {
		if g.Name != "nonroot" {
			continue
		}
		ev, _ := json.Marshal(g.Evidence)
		if g.Verdict != "fail" || !strings.Contains(string(ev), buried) {
			t.Errorf("nonroot must fail and name the nested image %s: %+v", buried, g)
		}
	}
	if p.hasManifest(p.repo("test", "web"), buried) || len(p.tags(p.repo("test", "web"))) > 0 {
		t.Fatalf("the refused tree reached test: tags %v", p.tags(p.repo("test", "web")))
	}

	outer, inner, buried := nested("2.0", "")
	p.mustPromote(0, "to", "test", "web:2.0")
	for _, d := range []string{outer, inner, buried} {
		if !p.hasManifest(p.repo("test", "web"), d) {
			t.Errorf("%s did not arrive in test", d)
		}
	}
}
