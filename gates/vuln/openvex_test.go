package vuln

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readVEX(t *testing.T, name string) *VEXDocument {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "vex", name))
	require.NoError(t, err)
	doc, err := ParseOpenVEX(data)
	require.NoError(t, err)
	return doc
}

func TestOpenVEXv020(t *testing.T) {
	doc := readVEX(t, "go-vex-v0.2.0.json")
	require.Len(t, doc.Statements, 5)
	st := doc.Statements[3]
	assert.Equal(t, []string{"CVE-2023-3446"}, st.Vulnerability.Names())
	assert.Equal(t, NotAffected, st.Status)
	assert.Equal(t, "vulnerable_code_not_present", st.Justification)
	assert.True(t, st.Status.Suppresses())
	require.Len(t, st.Products, 1)
	assert.Equal(t, "pkg:oci/alpine@sha256%3A124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126", st.Products[0].ID)
	assert.Equal(t, []VEXComponent{{ID: "pkg:apk/alpine/libssl3@3.0.8-r3"}, {ID: "pkg:apk/alpine/libcrypto3@3.0.8-r3"}}, st.Products[0].Subcomponents)
	assert.Equal(t, doc.Timestamp, st.Timestamp, "a statement without a timestamp takes the document's")
	assert.Equal(t, time.Date(2023, 7, 18, 0, 28, 47, 696004345, time.UTC), st.Timestamp)
	assert.Equal(t, Fixed, doc.Statements[0].Status)
}

func TestOpenVEXv001StringForms(t *testing.T) {
	doc := readVEX(t, "go-vex-v0.0.1.json")
	require.Len(t, doc.Statements, 1)
	st := doc.Statements[0]
	assert.Equal(t, "CVE-2023-12345", st.Vulnerability.Name)
	require.Len(t, st.Products, 2)
	assert.Equal(t, "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", st.Products[0].ID)
}

func TestOpenVEXObjectForms(t *testing.T) {
	doc, err := ParseOpenVEX([]byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2026-01-01T00:00:00Z", "statements": [
	  {"vulnerability": {"@id": "https://nvd.nist.gov/vuln/detail/CVE-2026-1", "name": "CVE-2026-1", "aliases": ["GHSA-xxxx-yyyy-zzzz"]},
	   "products": [{"@id": "web", "identifiers": {"purl": "pkg:oci/web"}, "hashes": {"sha-256": "abc"}}],
	   "status": "fixed", "timestamp": "2026-01-02T00:00:00Z", "last_updated": "2026-01-03T00:00:00Z"}]}`))
	require.NoError(t, err)
	st := doc.Statements[0]
	assert.Equal(t, []string{"CVE-2026-1", "https://nvd.nist.gov/vuln/detail/CVE-2026-1", "GHSA-xxxx-yyyy-zzzz"}, st.Vulnerability.Names())
	assert.Equal(t, VEXComponent{ID: "web", PURL: "pkg:oci/web", Hashes: []string{"abc"}}, st.Products[0].VEXComponent)
	assert.Equal(t, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), st.Timestamp, "last_updated wins over timestamp")
}

func TestOpenVEXRefusesInvalidDocuments(t *testing.T) {
	for name, c := range map[string]struct{ doc, want string }{
		"not json":         {`{"@context":`, "openvex"},
		"csaf":             {`{"document": {"category": "csaf_vex"}}`, "@context"},
		"bad status":       {`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "wontfix"}]}`, `status "wontfix"`},
		"no vulnerability": {`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": "fixed"}]}`, "statements[0]: no vulnerability"},
		"no justification": {`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": "CVE-1", "status": "not_affected"}]}`, "justification"},
	} {
		_, err := ParseOpenVEX([]byte(c.doc))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
	_, err := ParseOpenVEX([]byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": "CVE-1", "status": "not_affected", "impact_statement": "not reachable"}]}`))
	assert.NoError(t, err, "an impact statement is enough")
}

func TestPURLMatch(t *testing.T) {
	cases := []struct {
		pattern, purl string
		want          bool
	}{
		{"pkg:apk/wolfi/ruby-3.0@3.0.4-r1", "pkg:apk/wolfi/ruby-3.0@3.0.4-r1?arch=aarch64&distro=wolfi-20221118", true},
		{"pkg:apk/wolfi/ruby-3.0@3.0.4-r1?arch=x86_64", "pkg:apk/wolfi/ruby-3.0@3.0.4-r1?arch=aarch64", true},
		{"pkg:apk/wolfi/ruby-3.0", "pkg:apk/wolfi/ruby-3.0@3.0.4-r1", true},
		{"pkg:apk/wolfi/ruby-3.0@3.0.5", "pkg:apk/wolfi/ruby-3.0@3.0.4-r1", false},
		{"pkg:gem/uri@0.10.1", "pkg:gem/uri@0.10.1", true},
		{"pkg:gem/uri@0.10.1", "pkg:gem/url@0.10.1", false},
		{"pkg:npm/%40angular/core@1.0.0", "pkg:npm/@angular/core@1.0.0", true},
		{"pkg:RPM/photon/bash@4.4.18-1.ph3", "pkg:rpm/photon/bash@4.4.18-1.ph3?arch=x86_64&distro=photon-3.0", true},
		{"pkg:golang/example.com/mod#sub/dir", "pkg:golang/example.com/mod@v1.0.0", true},
		{"bash", "pkg:rpm/photon/bash@4.4.18-1.ph3", false},
		{"pkg:rpm/photon/bash", "", false},
		{"pkg:", "pkg:", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, PURLMatch(c.pattern, c.purl), "%s vs %s", c.pattern, c.purl)
	}
}
