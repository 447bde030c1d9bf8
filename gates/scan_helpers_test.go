package gates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// scanNow is the judging time of the scan tests.
var scanNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testPlatform builds a real platform image: a config, a manifest naming the
// config's digest, and the manifest's digest.
func testPlatform(t *testing.T, arch string) Image {
	t.Helper()
	cfg := &v1.ConfigFile{OS: "linux", Architecture: arch, RootFS: v1.RootFS{Type: "layers"}, Created: v1.Time{Time: scanNow.Add(-time.Hour)}}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	man := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[]}`,
		types.OCIManifestSchema1, types.OCIConfigJSON, sha256Digest(raw), len(raw))
	d, _, err := v1.SHA256(bytes.NewReader([]byte(man)))
	require.NoError(t, err)
	return Image{Platform: &v1.Platform{OS: "linux", Architecture: arch}, Digest: d, Manifest: []byte(man), ConfigRaw: raw, Config: cfg}
}

// testSubject builds a single-platform image (one arch) or an index.
func testSubject(t *testing.T, archs ...string) *Subject {
	t.Helper()
	s := &Subject{Repository: "registry.example/dev/web", Now: scanNow}
	for _, a := range archs {
		s.Images = append(s.Images, testPlatform(t, a))
	}
	if len(archs) == 1 {
		s.Digest, s.MediaType, s.Manifest = s.Images[0].Digest, types.OCIManifestSchema1, s.Images[0].Manifest
		return s
	}
	var entries []string
	for _, img := range s.Images {
		entries = append(entries, fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":%q}}`,
			types.OCIManifestSchema1, img.Digest, len(img.Manifest), img.Platform.Architecture))
	}
	idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, types.OCIImageIndex, strings.Join(entries, ","))
	d, _, err := v1.SHA256(bytes.NewReader([]byte(idx)))
	require.NoError(t, err)
	s.Digest, s.MediaType, s.Manifest = d, types.OCIImageIndex, []byte(idx)
	return s
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func configOf(img Image) string { return sha256Digest(img.ConfigRaw) }

// otherDigest is a digest of no image in these tests.
var otherDigest = sha256Digest([]byte("another image"))

// scanFixture reads a copied scan fixture.
func scanFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "scan", name))
	require.NoError(t, err)
	return data
}

// freshScan is when the reports of the scan tests were made: two hours
// before they are judged, as a CI scan just before promotion.
var freshScan = scanNow.Add(-2 * time.Hour)

// rebound returns a fixture with its digest fields rewritten in memory: a
// Trivy report's Metadata.ImageID and RepoDigests, or a Grype report's
// source.target imageID, manifestDigest and repoDigests. An empty value
// removes the field. Its scan time is stamped freshScan. The fixture file is
// never changed.
func rebound(t *testing.T, name, config, manifest string) Report {
	t.Helper()
	return reboundAt(t, name, config, manifest, freshScan)
}

// reboundAt is rebound with the scan time set to at (Trivy CreatedAt, Grype
// descriptor.timestamp); a zero at removes it.
func reboundAt(t *testing.T, name, config, manifest string, at time.Time) Report {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(scanFixture(t, name), &doc))
	set := func(m map[string]any, key string, v any, empty bool) {
		if empty {
			delete(m, key)
		} else {
			m[key] = v
		}
	}
	stamp := at.Format(time.RFC3339Nano)
	if meta, ok := doc["Metadata"].(map[string]any); ok {
		set(meta, "ImageID", config, config == "")
		set(meta, "RepoDigests", []string{"registry.example/dev/web@" + manifest}, manifest == "")
		set(doc, "CreatedAt", stamp, at.IsZero())
	} else {
		target := doc["source"].(map[string]any)["target"].(map[string]any)
		set(target, "imageID", config, config == "")
		set(target, "manifestDigest", manifest, manifest == "")
		set(target, "repoDigests", []string{"registry.example/dev/web@" + manifest}, manifest == "")
		set(doc["descriptor"].(map[string]any), "timestamp", stamp, at.IsZero())
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	return Report{Name: name, Data: data}
}

// scanSettings decodes src strictly, as the configuration loader does, with
// paths relative to the repository's testdata directory.
func scanSettings(src string) Settings {
	return Settings{Dir: filepath.Join("..", "testdata"), Decode: func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != io.EOF {
			return err
		}
		return nil
	}}
}

// newScanFromYAML builds the gate through its registered factory.
func newScanFromYAML(t *testing.T, src string) (Gate, error) {
	t.Helper()
	f, ok := Lookup("scan")
	require.True(t, ok)
	return f(scanSettings(src))
}

func mustScan(t *testing.T, src string) Gate {
	t.Helper()
	g, err := newScanFromYAML(t, src)
	require.NoError(t, err)
	return g
}

func evaluate(t *testing.T, g Gate, s *Subject) Verdict {
	t.Helper()
	v, err := g.Evaluate(context.Background(), s)
	require.NoError(t, err)
	require.Equal(t, "scan", v.Name)
	return v
}
