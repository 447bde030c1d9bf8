package vuln

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot walks up from the package directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test directory")
		dir = parent
	}
}

// scanFixtures is testdata/scan at the repository root: byte-for-byte copies
// of the shared scan reports, kept in the repository so these tests need
// nothing outside it. The integration test TestSharedScanFixtures checks the
// copies against ../shared/fixtures/scan (see testdata/scan/README.md).
func scanFixtures(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "testdata", "scan")
}

// expectation is what testdata/scan/README.md documents for a fixture.
type expectation struct {
	format   Format
	counts   map[Severity]int
	fixable  int
	unique   int // distinct vulnerability ids
	digests  []string
	version  string
	platform string
}

var (
	alpineImageID = "sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4"
	expectations  = map[string]expectation{
		"trivy-alpine-310.json":                {FormatTrivy, map[Severity]int{Medium: 4}, 4, 2, []string{alpineImageID}, "dev", "linux/amd64"},
		"trivy-alpine-310-ignore-unfixed.json": {FormatTrivy, map[Severity]int{Medium: 6, Low: 2}, 8, 4, []string{alpineImageID}, "", "linux/amd64"},
		"trivy-distroless-base.json":           {FormatTrivy, map[Severity]int{Medium: 2, Low: 2}, 2, 2, []string{"sha256:7f04a8d247173b1f2546d22913af637bbab4e7411e00ae6207da8d94c445750d"}, "dev", "linux/amd64"},
		"trivy-sl-micro-rancher5.4.json":       {FormatTrivy, map[Severity]int{}, 0, 0, []string{"sha256:c45ec974938acac29c893b5d273d73e4ebdd7e6a97b6fa861dfbd8dd430b9016"}, "dev", "linux/amd64"},
		"trivy-photon-30.json":                 {FormatTrivy, map[Severity]int{Critical: 2, High: 1}, 3, 2, []string{"sha256:5ccb5186b75cd13ff0d028f5b5b2bdf7ef7ca2b3d56eb2c6eb6c136077a6991a"}, "dev", "linux/amd64"},
		"trivy-fluentd-gems.json":              {FormatTrivy, map[Severity]int{Critical: 1, High: 1}, 2, 2, []string{"sha256:5a992077baba51b97f27591a10d54d2f2723dc9c81a3fe419e261023f2554933"}, "dev", "linux/amd64"},
		"grype-TestJsonImgsPresenter.json": {FormatGrype, map[Severity]int{Critical: 1, Low: 1}, 1, 2, []string{
			"sha256:ab5608d634db2716a297adbfa6a5dd5d8f8f5a7d0cab73649ea7fbb8c8da544f", "sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5"}, "", ""},
		"grype-TestEmptyJsonPresenter.json": {FormatGrype, map[Severity]int{}, 0, 0, nil, "", ""},
		"grype-chainguard-ruby-test.json": {FormatGrype, map[Severity]int{High: 3}, 2, 2, []string{
			"sha256:2f88265cfbc43ca35cd327347a9f59375b9f29ef998b8a54a882e31111266640",
			"sha256:86abe662dfa3746038eea6b0db91092b0767d78b8b8938a343d614cd1579adc2",
			"sha256:3c9afb4f188827ea1062ec3b8acea32893236a0d7df31e0498df93486cff0978"}, "0.61.1", "linux/arm64"},
		"cosign-vuln-predicate.json":            {FormatCosignVuln, map[Severity]int{}, 0, 0, nil, "", ""},
		"cosign-vuln-attestation-dsse.json":     {FormatCosignVuln, map[Severity]int{}, 0, 0, []string{"sha256:3c19aa980a9c5709a2c96c2d0779febf6e5e453b92b172ce84cb85fdaf695373"}, "", ""},
		"ecr-describe-image-scan-findings.json": {FormatECR, map[Severity]int{Medium: 1}, 1, 1, []string{"sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6"}, "", ""},
	}
)

// parseFixture parses a fixture the way its consumer would: a DSSE envelope
// is unwrapped (its signature is not what this test is about) and its
// payload parsed as an in-toto statement.
func parseFixture(t *testing.T, data []byte) *Report {
	t.Helper()
	f, err := Detect(data)
	require.NoError(t, err)
	if f != FormatDSSE {
		r, err := Parse(data)
		require.NoError(t, err)
		return r
	}
	_, err = Parse(data)
	require.ErrorContains(t, err, "verify its signature", "Parse must refuse an unverified envelope")
	var env struct{ PayloadType, Payload string }
	require.NoError(t, json.Unmarshal(data, &env))
	assert.Equal(t, "application/vnd.in-toto+json", env.PayloadType)
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	r, err := ParseCosignVulnStatement(payload)
	require.NoError(t, err)
	return r
}

// TestScanFixtures parses every fixture in testdata/scan and asserts the
// counts its README documents; every fixture needs an expectation here and
// every expectation a fixture.
func TestScanFixtures(t *testing.T) {
	dir := scanFixtures(t)
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, names, "no fixtures in %s", dir)
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := expectations[name]
			require.True(t, ok, "fixture testdata/scan/%s has no expectation in this test: add one", name)
			data, err := os.ReadFile(path)
			require.NoError(t, err)

			r := parseFixture(t, data)
			assert.Equal(t, want.format, r.Format)
			counts := r.Counts()
			for _, sev := range Severities {
				assert.Equal(t, want.counts[sev], counts[sev], "%s findings", sev)
			}
			fixable, ids := 0, map[string]bool{}
			for _, f := range r.Findings {
				ids[f.ID] = true
				if f.Fixable {
					fixable++
				}
				assert.NotEmpty(t, f.ID)
			}
			assert.Equal(t, want.fixable, fixable, "fixable findings")
			assert.Len(t, ids, want.unique, "distinct ids")
			var digests []string
			for _, d := range r.Digests {
				digests = append(digests, d.Value)
			}
			sort.Strings(digests)
			sort.Strings(want.digests)
			assert.Equal(t, want.digests, digests)
			assert.Equal(t, want.version, r.ScannerVersion)
			assert.Equal(t, want.platform, r.Platform)
		})
	}
	for name := range expectations {
		assert.FileExists(t, filepath.Join(dir, name), "expectation for a fixture testdata/scan lacks")
	}
}

func TestFixtureDetails(t *testing.T) {
	dir := scanFixtures(t)
	read := func(name string) *Report {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return parseFixture(t, data)
	}

	g := read("grype-chainguard-ruby-test.json")
	assert.Equal(t, "grype", g.Scanner)
	assert.Equal(t, time.Date(2023, 5, 17, 1, 32, 43, 0, time.UTC), g.DBUpdated)
	kinds := map[string]DigestKind{}
	for _, d := range g.Digests {
		kinds[d.Field] = d.Kind
	}
	assert.Equal(t, map[string]DigestKind{"source.target.imageID": ConfigDigest, "source.target.manifestDigest": ManifestDigest, "source.target.repoDigests[0]": ManifestDigest}, kinds)
	var ghsa Finding
	for _, f := range g.Findings {
		if strings.HasPrefix(f.ID, "GHSA-") {
			ghsa = f
		}
	}
	assert.Equal(t, []string{"CVE-2023-28755"}, ghsa.Aliases)
	assert.Equal(t, "pkg:gem/uri@0.10.1", ghsa.PURL)
	assert.Equal(t, "0.10.2", ghsa.FixedVersion)
	assert.Equal(t, "High", ghsa.ScannerSeverity)

	tr := read("trivy-photon-30.json")
	assert.Equal(t, time.Date(2021, 8, 25, 12, 20, 30, 5, time.UTC), tr.ScannedAt)
	assert.True(t, tr.DBUpdated.IsZero(), "a standalone Trivy report carries no DB date")
	assert.Equal(t, ConfigDigest, tr.Digests[0].Kind)
	assert.Equal(t, "Metadata.ImageID", tr.Digests[0].Field)

	d := read("trivy-distroless-base.json")
	for _, f := range d.Findings {
		assert.Equal(t, f.FixedVersion != "", f.Fixable, "%s %s: status affected without a fix is not fixable", f.ID, f.Package)
		if f.ID == "CVE-2019-1563" {
			assert.Equal(t, []string{"DSA-4539-1"}, f.Aliases, "Trivy VendorIDs become aliases")
		}
	}

	e := read("ecr-describe-image-scan-findings.json")
	assert.Equal(t, "COMPLETE", e.Status)
	assert.Equal(t, time.Unix(1579811117, 0).UTC(), e.DBUpdated)
	assert.Equal(t, time.Unix(1579839105, 0).UTC(), e.ScannedAt)
	require.Len(t, e.Findings, 1)
	assert.Equal(t, Finding{ID: "CVE-2019-5188", Severity: Medium, ScannerSeverity: "MEDIUM", Package: "e2fsprogs", InstalledVersion: "1.44.1-1ubuntu1.1", Fixable: true}, e.Findings[0])

	c := read("cosign-vuln-predicate.json")
	assert.Equal(t, "fakescanner.example.com/cosign-testing", c.Scanner)
	assert.Equal(t, time.Date(2022, 4, 12, 0, 10, 0, 0, time.UTC), c.ScannedAt)
	assert.Empty(t, c.Digests)
}
