package gates

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/vuln"
)

// writeVEX writes an OpenVEX document with the given statements (JSON objects).
func writeVEX(t *testing.T, statements ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vex.json")
	doc := fmt.Sprintf(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "test",
		"timestamp": "2026-01-01T00:00:00Z", "statements": [%s]}`, strings.Join(statements, ","))
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

// ociPURL names an image digest as OpenVEX documents do.
func ociPURL(d v1.Hash) string { return "pkg:oci/web@sha256%3A" + d.Hex }

var (
	fOpenSSL = vuln.Finding{ID: "CVE-2026-1000", Severity: vuln.Critical, Package: "libssl3", PURL: "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64", Fixable: true}
	fBusy    = vuln.Finding{ID: "CVE-2026-1000", Severity: vuln.Critical, Package: "busybox", PURL: "pkg:apk/alpine/busybox@1.36.0-r0?arch=x86_64", Fixable: true}
)

func TestScanVEXProducts(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	stmt := func(products, status string) string {
		extra := ""
		if status == "not_affected" {
			extra = `, "justification": "vulnerable_code_not_present"`
		}
		p := ""
		if products != "" {
			p = `"products": [` + products + `], `
		}
		return fmt.Sprintf(`{"vulnerability": {"name": "CVE-2026-1000"}, %s"status": %q%s}`, p, status, extra)
	}
	cases := []struct {
		name       string
		statements []string
		suppressed int
	}{
		{"no products: every finding", []string{stmt("", "not_affected")}, 2},
		{"product is the index", []string{stmt(fmt.Sprintf(`{"@id": %q}`, ociPURL(s.Digest)), "not_affected")}, 2},
		{"product is a platform manifest", []string{stmt(fmt.Sprintf(`{"@id": "registry.example/web@%s"}`, s.Images[1].Digest), "fixed")}, 2},
		{"product by identifiers.purl", []string{stmt(fmt.Sprintf(`{"@id": "web", "identifiers": {"purl": %q}}`, ociPURL(s.Digest)), "fixed")}, 2},
		{"product by hash", []string{stmt(fmt.Sprintf(`{"@id": "web", "hashes": {"sha-256": %q}}`, s.Digest.Hex), "fixed")}, 2},
		{"product is another image", []string{stmt(fmt.Sprintf(`{"@id": "pkg:oci/web@%s"}`, strings.Replace(otherDigest, ":", "%3A", 1)), "not_affected")}, 0},
		{"subject with a subcomponent", []string{stmt(fmt.Sprintf(`{"@id": %q, "subcomponents": [{"@id": "pkg:apk/alpine/libssl3@3.0.8-r3"}]}`, ociPURL(s.Digest)), "not_affected")}, 1},
		{"another image's subcomponent", []string{stmt(fmt.Sprintf(`{"@id": "pkg:oci/web@%s", "subcomponents": [{"@id": "pkg:apk/alpine/libssl3"}]}`, otherDigest), "not_affected")}, 0},
		{"subcomponent of a product without digest", []string{stmt(`{"@id": "pkg:oci/web", "subcomponents": [{"identifiers": {"purl": "pkg:apk/alpine/busybox"}}]}`, "not_affected")}, 1},
		{"the package itself as product", []string{stmt(`{"@id": "pkg:apk/alpine/libssl3@3.0.8-r3"}`, "fixed")}, 1},
		{"another version of the package", []string{stmt(`{"@id": "pkg:apk/alpine/libssl3@3.0.9-r0"}`, "fixed")}, 0},
		{"an image name without digest", []string{stmt(`{"@id": "pkg:oci/web"}`, "not_affected")}, 0},
		{"affected does not suppress", []string{stmt("", "affected")}, 0},
		{"under_investigation does not suppress", []string{stmt("", "under_investigation")}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := decideOn(t, ScanConfig{MaxSeverity: "high", VEX: []string{writeVEX(t, c.statements...)}}, s, fOpenSSL, fBusy)
			assert.Equal(t, c.suppressed, v.Evidence["suppressed"].(map[string]int)["vex"], v.Reason)
			assert.Equal(t, c.suppressed == 2, v.Passed(), v.Reason)
		})
	}
}

func TestScanVEXLatestStatementWins(t *testing.T) {
	s := testSubject(t, "amd64")
	at := func(status, ts string) string {
		return fmt.Sprintf(`{"vulnerability": {"name": "CVE-2026-1000"}, "status": %q, "justification": "component_not_present", "timestamp": %q}`, status, ts)
	}
	cases := []struct {
		name       string
		docs       [][]string
		suppressed bool
	}{
		{"affected after not_affected", [][]string{{at("not_affected", "2026-01-01T00:00:00Z"), at("affected", "2026-01-02T00:00:00Z")}}, false},
		{"not_affected after affected", [][]string{{at("affected", "2026-01-01T00:00:00Z"), at("not_affected", "2026-01-02T00:00:00Z")}}, true},
		{"order in the file does not matter", [][]string{{at("not_affected", "2026-01-02T00:00:00Z"), at("affected", "2026-01-01T00:00:00Z")}}, true},
		{"across documents", [][]string{{at("not_affected", "2026-01-01T00:00:00Z")}, {at("affected", "2026-02-01T00:00:00Z")}}, false},
		{"a tie goes to the later one", [][]string{{at("fixed", "2026-01-01T00:00:00Z")}, {at("under_investigation", "2026-01-01T00:00:00Z")}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var paths []string
			for _, d := range c.docs {
				paths = append(paths, writeVEX(t, d...))
			}
			v := decideOn(t, ScanConfig{MaxSeverity: "high", VEX: paths}, s, fOpenSSL)
			assert.Equal(t, c.suppressed, v.Passed(), v.Reason)
		})
	}
}

func TestScanVEXConfiguredDocument(t *testing.T) {
	// app.openvex.json sets CVE-2019-18276 (bash) aside by subcomponent and
	// takes its not_affected on CVE-2019-5481 back with a later affected.
	s := testSubject(t, "amd64")
	s.Reports = []Report{rebound(t, "trivy-photon-30.json", configOf(s.Images[0]), "")}
	v := evaluate(t, mustScan(t, "maxSeverity: medium\nvex: [vex/app.openvex.json]"), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "2 findings of 1 vulnerability above medium: CVE-2019-5481 (CRITICAL)", v.Reason)
	assert.Equal(t, map[string]int{"vex": 1, "ignored": 0, "notFixable": 0}, v.Evidence["suppressed"])
	assert.Equal(t, []string{"CVE-2019-18276 not_affected (vulnerable_code_not_in_execute_path) in ../testdata/vex/app.openvex.json (1 finding)"}, v.Evidence["vexApplied"])

	cfg := "maxSeverity: medium\nvex: [vex/app.openvex.json]\nignore: [{id: CVE-2019-5481, until: 2026-03-31, reason: curl is not used at runtime}]"
	v = evaluate(t, mustScan(t, cfg), s)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "clean at maxSeverity medium: 0 findings above it (suppressed 1 vex, 2 ignored); scanned by trivy dev, vulnerability database date unknown", v.Reason)
}

func TestScanVEXByAlias(t *testing.T) {
	// Grype lists GHSA-hv5j-3h9f-99c2 with CVE-2023-28755 as related. A VEX
	// statement on the CVE covers the CVE's own findings; the GHSA finding
	// stays, since the scanner's alias list is not the VEX author's word.
	s := testSubject(t, "arm64")
	s.Reports = []Report{rebound(t, "grype-chainguard-ruby-test.json", configOf(s.Images[0]), "")}
	for _, stmt := range []string{
		`{"vulnerability": {"name": "CVE-2023-28755"}, "products": [{"@id": "pkg:gem/uri"}], "status": "fixed"}`,
		`{"vulnerability": {"name": "CVE-2023-28755", "aliases": ["GHSA-hv5j-3h9f-99c2"]}, "products": [{"@id": "pkg:gem/uri"}], "status": "fixed"}`,
	} {
		g, err := NewScan(ScanConfig{MaxSeverity: "medium", VEX: []string{writeVEX(t, stmt)}})
		require.NoError(t, err)
		v := evaluate(t, g, s)
		assert.False(t, v.Passed())
		assert.Equal(t, "2 findings above medium: CVE-2023-28755 (HIGH), GHSA-hv5j-3h9f-99c2 (HIGH)", v.Reason, "the ruby-3.0 apk finding and the GHSA remain")
		assert.Equal(t, 1, v.Evidence["suppressed"].(map[string]int)["vex"])
	}
}

func TestScanVEXUpstreamDocument(t *testing.T) {
	// go-vex's v0.2.0 example names pkg:oci/alpine@sha256:124c7d… with the
	// libssl3 and libcrypto3 subcomponents.
	s := testSubject(t, "amd64")
	alpine, err := v1.NewHash("sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126")
	require.NoError(t, err)
	s.Digest, s.Images[0].Digest = alpine, alpine
	f := func(pkg string) vuln.Finding {
		return vuln.Finding{ID: "CVE-2023-3446", Severity: vuln.High, Package: pkg, PURL: "pkg:apk/alpine/" + pkg + "@3.0.8-r3?arch=x86_64&distro=3.18.0", Fixable: true}
	}
	v := decideOn(t, ScanConfig{MaxSeverity: "medium", VEX: []string{filepath.Join("..", "testdata", "vex", "go-vex-v0.2.0.json")}}, s, f("libssl3"), f("libcrypto3"), f("openssl"))
	assert.False(t, v.Passed())
	assert.Equal(t, "1 finding above medium: CVE-2023-3446 (HIGH)", v.Reason)
	assert.Equal(t, 2, v.Evidence["suppressed"].(map[string]int)["vex"])
}
