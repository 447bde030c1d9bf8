package gates

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/vuln"
)

const day = 24 * time.Hour

func TestScanReportMustBeFresh(t *testing.T) {
	s := testSubject(t, "amd64")
	cfg := configOf(s.Images[0])
	cases := []struct {
		name, gate string
		report     Report
		pass       bool
		reason     string
	}{
		{"scanned 2h ago", "", rebound(t, "trivy-sl-micro-rancher5.4.json", cfg, ""), true, "clean: 0 findings; scanned by trivy dev, vulnerability database date unknown"},
		{"scanned 12d ago", "", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(-12*day)), false,
			"scan report trivy-sl-micro-rancher5.4.json was scanned 12d ago (at 2026-02-17T12:00:00Z), more than maxReportAge 7d: scan the image again and pass the new report"},
		{"grype descriptor.timestamp 8d ago", "maxSeverity: critical", reboundAt(t, "grype-chainguard-ruby-test.json", cfg, "", scanNow.Add(-8*day)), false,
			"scan report grype-chainguard-ruby-test.json was scanned 8d ago (at 2026-02-21T12:00:00Z), more than maxReportAge 7d: scan the image again and pass the new report"},
		{"Trivy without CreatedAt", "maxSeverity: medium", reboundAt(t, "trivy-alpine-310-ignore-unfixed.json", cfg, "", time.Time{}), false,
			"scan report trivy-alpine-310-ignore-unfixed.json does not say when it was scanned (no CreatedAt): pass a report from a current scanner, or set allowUndated: true"},
		{"Grype without timestamp", "maxSeverity: critical", reboundAt(t, "grype-chainguard-ruby-test.json", cfg, "", time.Time{}), false,
			"scan report grype-chainguard-ruby-test.json does not say when it was scanned (no descriptor.timestamp): pass a report from a current scanner, or set allowUndated: true"},
		{"scanned in the future", "", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(3*day)), false,
			"scan report trivy-sl-micro-rancher5.4.json says it was scanned at 2026-03-04T12:00:00Z, 3d after now: check the scanning machine's clock"},
		{"a minute ahead is clock skew", "", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(time.Minute)), true, "clean: 0 findings; scanned by trivy dev, vulnerability database date unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Reports = []Report{c.report}
			v := evaluate(t, mustScan(t, c.gate), s)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Equal(t, c.reason, v.Reason)
		})
	}
}

// attested is a cosign vulnerability attestation's report, bound to s by
// its statement subject, scanned at at.
func attested(s *Subject, name string, at time.Time, findings ...vuln.Finding) namedReport {
	return namedReport{name: "attestation " + name, report: &vuln.Report{
		Format: vuln.FormatCosignVuln, Scanner: "trivy", ScannerVersion: "0.50.1", ScannedAt: at, Findings: findings,
		Digests: []vuln.Digest{{Value: s.Digest.String(), Kind: vuln.ManifestDigest, Field: "attestation subject"}},
	}}
}

func decideAttestations(t *testing.T, c ScanConfig, s *Subject, reports ...namedReport) Verdict {
	t.Helper()
	c.Sources = []string{SourceAttestation}
	g, err := NewScan(c)
	require.NoError(t, err)
	return g.(*scanGate).decide(s, []sourceFindings{{source: SourceAttestation, reports: reports}})
}

func TestScanNewestAttestationDecides(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	old, recent := scanNow.Add(-3*day), scanNow.Add(-time.Hour)

	// A new scan found a critical: the older clean attestation does not outvote it.
	v := decideAttestations(t, ScanConfig{MaxSeverity: "high"}, s, attested(s, "old", old), attested(s, "new", recent, fCritical))
	assert.False(t, v.Passed())
	assert.Equal(t, "1 finding above high: CVE-2026-0001 (CRITICAL)", v.Reason)

	// The critical was fixed and scanned again: the newer clean attestation decides.
	v = decideAttestations(t, ScanConfig{MaxSeverity: "high"}, s, attested(s, "old", old, fCritical), attested(s, "new", recent))
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "clean at maxSeverity high: 0 findings above it; scanned by trivy 0.50.1, vulnerability database date unknown", v.Reason)

	// Only a stale attestation: refused, whatever it found.
	v = decideAttestations(t, ScanConfig{MaxSeverity: "high"}, s, attested(s, "stale", scanNow.Add(-9*day)))
	assert.False(t, v.Passed())
	assert.Equal(t, "attestation stale was scanned 9d ago (at 2026-02-20T12:00:00Z), more than maxReportAge 7d: scan the image again and attest the new result", v.Reason)
}

func TestScanUnknownSeverityBlocks(t *testing.T) {
	sev := func(spelling string) vuln.Finding {
		return vuln.Finding{ID: "CVE-2026-0009", Severity: vuln.ParseSeverity(spelling), ScannerSeverity: spelling, Package: "busybox", Fixable: true}
	}
	for _, c := range []struct {
		name, max string
		f         vuln.Finding
	}{
		{"UNKNOWN at low", "low", fUnknown},
		{"UNKNOWN at critical", "critical", fUnknown},
		{"ECR UNDEFINED", "critical", sev("UNDEFINED")},
		{"an unrecognised spelling", "critical", sev("SEVERE")},
		{"no severity at all", "high", sev("")},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := decideOn(t, ScanConfig{MaxSeverity: c.max}, testSubject(t, "amd64"), c.f)
			assert.False(t, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, "1 finding of unknown severity: "+c.f.ID+" (UNKNOWN")
			assert.Contains(t, v.Reason, "unknown: allow")
		})
	}
}

func TestScanFreshnessOptions(t *testing.T) {
	s := testSubject(t, "amd64")
	cfg := configOf(s.Images[0])
	grype := func(at time.Time) Report { return reboundAt(t, "grype-chainguard-ruby-test.json", cfg, "", at) }
	trivy := rebound(t, "trivy-sl-micro-rancher5.4.json", cfg, "")
	cases := []struct {
		name, gate string
		report     Report
		pass       bool
		reason     string
	}{
		{"maxReportAge 30d takes a 12d-old scan", "maxReportAge: 30d", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(-12*day)), true, ""},
		{"maxReportAge 36h refuses a 2d-old scan", "maxReportAge: 36h", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(-50*time.Hour)), false,
			"scan report trivy-sl-micro-rancher5.4.json was scanned 2d2h ago (at 2026-02-27T10:00:00Z), more than maxReportAge 36h: scan the image again and pass the new report"},
		{"allowUndated takes a report without CreatedAt", "maxSeverity: medium\nallowUndated: true", reboundAt(t, "trivy-alpine-310-ignore-unfixed.json", cfg, "", time.Time{}), true, ""},
		{"allowUndated does not excuse a stale scan", "allowUndated: true", reboundAt(t, "trivy-sl-micro-rancher5.4.json", cfg, "", scanNow.Add(-8*day)), false,
			"scan report trivy-sl-micro-rancher5.4.json was scanned 8d ago (at 2026-02-21T12:00:00Z), more than maxReportAge 7d: scan the image again and pass the new report"},
		// The chainguard report's database was built 2023-05-17T01:32:43Z.
		{"maxDBAge refuses an old database", "maxSeverity: critical\nmaxDBAge: 3d", grype(freshScan), false,
			"scan report grype-chainguard-ruby-test.json used a vulnerability database built 1019d10h ago (at 2023-05-17T01:32:43Z), more than maxDBAge 3d: update the scanner's database and scan the image again and pass the new report"},
		{"maxDBAge needs a dated database", "maxDBAge: 3d", trivy, false,
			"scan report trivy-sl-micro-rancher5.4.json does not say when its vulnerability database was built, so maxDBAge 3d cannot be checked: use a scan that records it (Grype, Trivy in client/server mode, ECR) or remove maxDBAge"},
		{"no maxDBAge, no database check", "maxSeverity: critical", grype(freshScan), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Reports = []Report{c.report}
			v := evaluate(t, mustScan(t, c.gate), s)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			if !c.pass {
				assert.Equal(t, c.reason, v.Reason)
			}
		})
	}

	// Evidence says when the scan ran, its age and its database's.
	s.Reports = []Report{grype(freshScan)}
	v := evaluate(t, mustScan(t, "maxSeverity: critical\nmaxDBAge: 2000d"), s)
	require.True(t, v.Passed(), v.Reason)
	rep := v.Evidence["reports"].([]map[string]any)[0]
	assert.Equal(t, "2026-03-01T10:00:00Z", rep["scannedAt"])
	assert.Equal(t, "descriptor.timestamp", rep["scanTimeField"])
	assert.Equal(t, "2h", rep["age"])
	assert.Equal(t, "2023-05-17T01:32:43Z", rep["dbBuilt"])
	assert.Equal(t, "1019d10h", rep["dbAge"])
	assert.Equal(t, "2000d", v.Evidence["maxDBAge"])
}

func TestScanECRDatabaseAge(t *testing.T) {
	s := testSubject(t, "amd64")
	s.Scans = &fakeScans{t: t, status: "COMPLETE", severity: "LOW", dbUpdated: scanNow.Add(-5 * day)}
	v := evaluate(t, mustScan(t, "sources: [ecr]\nmaxSeverity: high\nmaxDBAge: 2d"), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "ECR scan of linux/amd64 used a vulnerability database built 5d ago (at 2026-02-24T12:00:00Z), more than maxDBAge 2d: update the scanner's database and scan it again (aws ecr start-image-scan) or turn on continuous scanning", v.Reason)

	v = evaluate(t, mustScan(t, "sources: [ecr]\nmaxSeverity: high\nmaxDBAge: 6d"), s)
	assert.True(t, v.Passed(), v.Reason)
	rep := v.Evidence["reports"].([]map[string]any)[0]
	assert.Equal(t, "imageScanFindings.imageScanCompletedAt", rep["scanTimeField"])
	assert.Equal(t, "5d", rep["dbAge"])
}

func TestScanAttestationEvidence(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	old, recent := scanNow.Add(-3*day), scanNow.Add(-time.Hour)
	v := decideAttestations(t, ScanConfig{MaxSeverity: "high"}, s, attested(s, "old", old, fCritical), attested(s, "new", recent))
	require.True(t, v.Passed(), v.Reason)
	assert.Equal(t, map[string]any{
		"decided":    []string{"attestation new scanned 2026-03-01T11:00:00Z"},
		"superseded": []string{"attestation old scanned 2026-02-26T12:00:00Z"},
	}, v.Evidence["attestations"])
	reports := v.Evidence["reports"].([]map[string]any)
	require.Len(t, reports, 1, "a superseded attestation is not judged")
	assert.Equal(t, "attestation new", reports[0]["name"])
	assert.Equal(t, "1h", reports[0]["age"])

	// An undated attestation cannot be ordered: it is judged, and refused
	// unless allowUndated.
	undated := attested(s, "undated", time.Time{})
	undated.report.ScannedAtField = "metadata.scanFinishedOn"
	v = decideAttestations(t, ScanConfig{MaxSeverity: "high"}, s, attested(s, "new", recent), undated)
	assert.False(t, v.Passed())
	assert.Equal(t, "attestation undated does not say when it was scanned (no metadata.scanFinishedOn): attest a result that records metadata.scanFinishedOn, or set allowUndated: true", v.Reason)
	undated.report.Findings = []vuln.Finding{fCritical}
	v = decideAttestations(t, ScanConfig{MaxSeverity: "high", AllowUndated: true}, s, attested(s, "new", recent), undated)
	assert.False(t, v.Passed(), "its findings count beside the newest dated one")
	assert.Equal(t, "1 finding above high: CVE-2026-0001 (CRITICAL)", v.Reason)

	// Newest per platform: an older attestation of arm64 alone still
	// decides for arm64 when a newer one covers amd64 only.
	amdOnly := attested(s, "amd64", recent)
	amdOnly.report.Digests = []vuln.Digest{{Value: configOf(s.Images[0]), Kind: vuln.ConfigDigest, Field: "Metadata.ImageID"}}
	armOnly := attested(s, "arm64", old, fHigh)
	armOnly.report.Digests = []vuln.Digest{{Value: configOf(s.Images[1]), Kind: vuln.ConfigDigest, Field: "Metadata.ImageID"}}
	v = decideAttestations(t, ScanConfig{MaxSeverity: "medium"}, s, amdOnly, armOnly)
	assert.False(t, v.Passed())
	assert.Equal(t, "1 finding above medium: CVE-2026-0002 (HIGH)", v.Reason)
	assert.NotContains(t, v.Evidence["attestations"], "superseded")
}

func TestScanUnknownAllow(t *testing.T) {
	v := decideOn(t, ScanConfig{MaxSeverity: "low", Unknown: "allow"}, testSubject(t, "amd64"), fUnknown, fLowGHSA)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "clean at maxSeverity low: 0 findings above it (1 low, 1 unknown allowed); scanned by trivy 0.50.1, vulnerability database date unknown", v.Reason)
	assert.Equal(t, "allow", v.Evidence["unknown"])

	v = decideOn(t, ScanConfig{MaxSeverity: "low", Unknown: "allow"}, testSubject(t, "amd64"), fUnknown, fMedium)
	assert.Equal(t, "1 finding above low: CVE-2026-0003 (MEDIUM)", v.Reason, "unknown: allow leaves known severities to maxSeverity")

	v = decideOn(t, ScanConfig{MaxSeverity: "medium", Unknown: "block"}, testSubject(t, "amd64"), fUnknown, fCritical)
	assert.Equal(t, "1 finding above medium: CVE-2026-0001 (CRITICAL); 1 finding of unknown severity: CVE-2026-0004 (UNKNOWN); unknown severities block: triage them, or set unknown: allow", v.Reason)
}

func TestScanMatchAliases(t *testing.T) {
	ignoreCVE := []IgnoreRule{{ID: "CVE-2026-0005", Until: "2027-01-31", Reason: "not reachable"}}
	v := decideOn(t, ScanConfig{Ignore: ignoreCVE}, testSubject(t, "amd64"), fLowGHSA)
	assert.False(t, v.Passed(), "the GHSA finding lists the CVE as an alias only")
	v = decideOn(t, ScanConfig{Ignore: ignoreCVE, MatchAliases: true}, testSubject(t, "amd64"), fLowGHSA)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, true, v.Evidence["matchAliases"])

	s := testSubject(t, "arm64")
	s.Reports = []Report{rebound(t, "grype-chainguard-ruby-test.json", configOf(s.Images[0]), "")}
	vex := writeVEX(t, `{"vulnerability": {"name": "CVE-2023-28755"}, "products": [{"@id": "pkg:gem/uri"}], "status": "fixed"}`)
	g, err := NewScan(ScanConfig{MaxSeverity: "medium", VEX: []string{vex}, MatchAliases: true})
	require.NoError(t, err)
	v = evaluate(t, g, s)
	assert.Equal(t, "1 finding above medium: CVE-2023-28755 (HIGH)", v.Reason, "with matchAliases the GHSA finding is covered; the ruby-3.0 apk finding remains")
	assert.Equal(t, 2, v.Evidence["suppressed"].(map[string]int)["vex"])
}

func TestScanFreshnessConfig(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"negative report age": {"maxReportAge: -1d", `maxReportAge: duration "-1d": must be positive`},
		"zero report age":     {"maxReportAge: 0d", `maxReportAge: duration "0d": must be positive`},
		"bad report age":      {"maxReportAge: a week", `maxReportAge: duration "a week"`},
		"number report age":   {"maxReportAge: 7", `maxReportAge: duration "7"`},
		"negative db age":     {"maxDBAge: -2h", `maxDBAge: duration "-2h": must be positive`},
		"bad unknown":         {"unknown: ignore", `unknown: "ignore" is not a choice; expected block`},
		"typo in field":       {"maxReportage: 7d", "field maxReportage not found"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newScanFromYAML(t, c.yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	g := mustScan(t, "maxReportAge: 2w\nmaxDBAge: 36h\nallowUndated: true\nunknown: ALLOW\nmatchAliases: true").(*scanGate)
	assert.Equal(t, freshness{maxReport: 14 * day, maxDB: 36 * time.Hour, allowUndated: true}, g.fresh)
	assert.True(t, g.policy.allowUnknown)
	assert.True(t, g.policy.matchAliases)
	d := mustScan(t, "").(*scanGate)
	assert.Equal(t, freshness{maxReport: 7 * day}, d.fresh, "7d by default, no database check, undated refused")
	assert.False(t, d.policy.allowUnknown)
	assert.False(t, d.policy.matchAliases)
}
