package gates

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/vuln"
)

var (
	fCritical = vuln.Finding{ID: "CVE-2026-0001", Severity: vuln.Critical, Package: "openssl", Fixable: true}
	fHigh     = vuln.Finding{ID: "CVE-2026-0002", Severity: vuln.High, Package: "curl", Fixable: true}
	fMedium   = vuln.Finding{ID: "CVE-2026-0003", Severity: vuln.Medium, Package: "zlib"} // no fix
	fUnknown  = vuln.Finding{ID: "CVE-2026-0004", Severity: vuln.Unknown, ScannerSeverity: "UNKNOWN", Package: "busybox", Fixable: true}
	fLowGHSA  = vuln.Finding{ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"CVE-2026-0005"}, Severity: vuln.Low, Package: "uri", Fixable: true}
)

// decideOn judges findings reported by one fresh report bound to s by its
// digest (so covering every platform).
func decideOn(t *testing.T, c ScanConfig, s *Subject, findings ...vuln.Finding) Verdict {
	t.Helper()
	g, err := NewScan(c)
	require.NoError(t, err)
	rep := &vuln.Report{Format: vuln.FormatTrivy, Scanner: "trivy", ScannerVersion: "0.50.1", Findings: findings,
		ScannedAt: freshScan, ScannedAtField: "CreatedAt",
		Digests: []vuln.Digest{{Value: s.Digest.String(), Kind: vuln.ManifestDigest, Field: "Metadata.RepoDigests[0]"}}}
	return g.(*scanGate).decide(s, []sourceFindings{{source: SourceReport, reports: []namedReport{{name: "scan.json", report: rep}}}})
}

func TestScanDecision(t *testing.T) {
	ignore := func(id, until string) []IgnoreRule {
		return []IgnoreRule{{ID: id, Until: until, Reason: "not reachable"}}
	}
	cases := []struct {
		name     string
		cfg      ScanConfig
		findings []vuln.Finding
		pass     bool
		reason   string
	}{
		{"critical above high", ScanConfig{MaxSeverity: "high"}, []vuln.Finding{fCritical, fHigh, fMedium}, false,
			"1 finding above high: CVE-2026-0001 (CRITICAL)"},
		{"all allowed at critical", ScanConfig{MaxSeverity: "critical"}, []vuln.Finding{fCritical, fHigh}, true,
			"clean at maxSeverity critical: 0 findings above it (1 critical, 1 high allowed); scanned by trivy 0.50.1, vulnerability database date unknown"},
		{"none and nothing found", ScanConfig{}, nil, true, "clean: 0 findings; scanned by trivy 0.50.1, vulnerability database date unknown"},
		{"none fails on a low finding", ScanConfig{MaxSeverity: "none"}, []vuln.Finding{fLowGHSA}, false,
			"1 finding with maxSeverity none: GHSA-aaaa-bbbb-cccc (LOW)"},
		{"severity order in the reason", ScanConfig{MaxSeverity: "low"}, []vuln.Finding{fMedium, fHigh, fCritical}, false,
			"3 findings above low: CVE-2026-0001 (CRITICAL), CVE-2026-0002 (HIGH), CVE-2026-0003 (MEDIUM)"},
		{"fixableOnly sets the unfixable aside", ScanConfig{MaxSeverity: "low", FixableOnly: true}, []vuln.Finding{fMedium}, true,
			"clean at maxSeverity low: 0 findings above it (suppressed 1 not fixable); scanned by trivy 0.50.1, vulnerability database date unknown"},
		{"fixableOnly keeps the fixable", ScanConfig{MaxSeverity: "medium", FixableOnly: true}, []vuln.Finding{fMedium, fHigh}, false,
			"1 finding above medium: CVE-2026-0002 (HIGH)"},
		{"unknown blocks at low", ScanConfig{MaxSeverity: "low"}, []vuln.Finding{fUnknown}, false,
			"1 finding of unknown severity: CVE-2026-0004 (UNKNOWN); unknown severities block: triage them, or set unknown: allow"},
		{"unknown blocks at none", ScanConfig{MaxSeverity: "none"}, []vuln.Finding{fUnknown}, false,
			"1 finding of unknown severity: CVE-2026-0004 (UNKNOWN); unknown severities block: triage them, or set unknown: allow"},
		{"ignore applies through its until day", ScanConfig{MaxSeverity: "high", Ignore: ignore("CVE-2026-0001", "2026-03-01")}, []vuln.Finding{fCritical}, true,
			"clean at maxSeverity high: 0 findings above it (suppressed 1 ignored); scanned by trivy 0.50.1, vulnerability database date unknown"},
		{"ignore expired the day before", ScanConfig{MaxSeverity: "high", Ignore: ignore("CVE-2026-0001", "2026-02-28")}, []vuln.Finding{fCritical}, false,
			"1 finding above high: CVE-2026-0001 (CRITICAL); ignore CVE-2026-0001 expired 2026-02-28"},
		{"ignore by own id, any case", ScanConfig{Ignore: ignore("ghsa-aaaa-bbbb-cccc", "2027-01-31")}, []vuln.Finding{fLowGHSA}, true,
			"clean: 0 findings (suppressed 1 ignored); scanned by trivy 0.50.1, vulnerability database date unknown"},
		{"ignore of an alias needs matchAliases", ScanConfig{Ignore: ignore("cve-2026-0005", "2027-01-31")}, []vuln.Finding{fLowGHSA}, false,
			"1 finding with maxSeverity none: GHSA-aaaa-bbbb-cccc (LOW)"},
		{"ignore of another id", ScanConfig{MaxSeverity: "high", Ignore: ignore("CVE-2026-9999", "2027-01-31")}, []vuln.Finding{fCritical}, false,
			"1 finding above high: CVE-2026-0001 (CRITICAL)"},
		{"same id in two packages", ScanConfig{MaxSeverity: "high"}, []vuln.Finding{fCritical, {ID: fCritical.ID, Severity: vuln.Critical, Package: "libssl"}}, false,
			"2 findings of 1 vulnerability above high: CVE-2026-0001 (CRITICAL)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := decideOn(t, c.cfg, testSubject(t, "amd64"), c.findings...)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Equal(t, c.reason, v.Reason)
		})
	}
}

func TestScanEvidence(t *testing.T) {
	cfg := ScanConfig{MaxSeverity: "medium", FixableOnly: true, Ignore: []IgnoreRule{
		{ID: "CVE-2026-0002", Until: "2027-01-31", Reason: "not reachable"},
		{ID: "CVE-2019-0001", Until: "2026-01-31", Reason: "old"},
	}}
	v := decideOn(t, cfg, testSubject(t, "amd64"), fCritical, fHigh, fMedium, fLowGHSA, fUnknown)
	assert.False(t, v.Passed())
	ev := v.Evidence
	assert.Equal(t, map[string]int{"CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "LOW": 1, "UNKNOWN": 1}, ev["counts"])
	assert.Equal(t, map[string]int{"vex": 0, "ignored": 1, "notFixable": 1}, ev["suppressed"])
	assert.Equal(t, []string{"CVE-2026-0001 (CRITICAL)", "CVE-2026-0004 (UNKNOWN)"}, ev["blocking"], "an unknown severity blocks too")
	assert.Equal(t, 2, ev["blockingIDs"])
	assert.Equal(t, []string{"ignore CVE-2019-0001 expired 2026-01-31"}, ev["expiredIgnores"])
	assert.Equal(t, []string{"CVE-2026-0002 until 2027-01-31: not reachable (1 finding)"}, ev["ignoresApplied"])
	assert.Equal(t, "medium", ev["maxSeverity"])
	assert.Equal(t, true, ev["fixableOnly"])
	assert.Equal(t, []string{"report"}, ev["sources"])
	bySource := ev["bySource"].(map[string]any)
	assert.Equal(t, ev["counts"], bySource["report"].(map[string]any)["counts"])
	reports := ev["reports"].([]map[string]any)
	require.Len(t, reports, 1)
	assert.Equal(t, "scan.json", reports[0]["name"])
	assert.Equal(t, "trivy", reports[0]["scanner"])
	assert.Equal(t, "0.50.1", reports[0]["scannerVersion"])
	assert.Equal(t, "unknown", reports[0]["db"])
	assert.Equal(t, []string{"linux/amd64"}, reports[0]["covers"])
	assert.Equal(t, 5, reports[0]["findings"])
	assert.Equal(t, "2026-03-01T10:00:00Z", reports[0]["scannedAt"])
	assert.Equal(t, "CreatedAt", reports[0]["scanTimeField"])
	assert.Equal(t, "2h", reports[0]["age"])
	assert.NotContains(t, reports[0], "dbAge", "a standalone Trivy report does not date its database")
	assert.Equal(t, "7d", ev["maxReportAge"])
	assert.NotContains(t, ev, "maxDBAge")
	assert.Equal(t, false, ev["allowUndated"])
	assert.Equal(t, "block", ev["unknown"])
	assert.Equal(t, false, ev["matchAliases"])
	assert.Len(t, reports[0]["boundTo"], 1)
}

func TestScanBlockingListIsCapped(t *testing.T) {
	var many []vuln.Finding
	for i := range 30 {
		many = append(many, vuln.Finding{ID: "CVE-2026-" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Severity: vuln.High})
	}
	v := decideOn(t, ScanConfig{MaxSeverity: "medium"}, testSubject(t, "amd64"), many...)
	assert.False(t, v.Passed())
	assert.Len(t, v.Evidence["blocking"], maxBlockingShown+1)
	assert.Equal(t, "… and 10 more", v.Evidence["blocking"].([]string)[maxBlockingShown])
	assert.Equal(t, 30, v.Evidence["blockingIDs"])
	assert.Contains(t, v.Reason, "30 findings above medium: ")
	assert.Contains(t, v.Reason, " and 25 more")
}

func TestScanConfigValidation(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"bad severity":   {"maxSeverity: severe", `maxSeverity: "severe" is not a severity`},
		"bad source":     {"sources: [sbom]", `sources[0]: unknown source "sbom"`},
		"twice":          {"sources: [report, report]", "sources[1]: report listed twice"},
		"no reason":      {"ignore: [{id: CVE-1, until: 2027-01-31}]", "ignore[0].reason: required"},
		"blank reason":   {"ignore: [{id: CVE-1, until: 2027-01-31, reason: ' '}]", "ignore[0].reason: required"},
		"no id":          {"ignore: [{until: 2027-01-31, reason: x}]", "ignore[0].id: required"},
		"no until":       {"ignore: [{id: CVE-1, reason: x}]", "ignore[0].until: required"},
		"bad date":       {"ignore: [{id: CVE-1, until: 31/01/2027, reason: x}]", `ignore[0].until: "31/01/2027" is not a date`},
		"impossible day": {"ignore: [{id: CVE-1, until: 2027-02-30, reason: x}]", "ignore[0].until"},
		"unknown field":  {"maxSeverity: high\nfixable: true", "field fixable not found"},
		"unknown nested": {"ignore: [{id: CVE-1, until: 2027-01-31, reason: x, note: y}]", "field note not found"},
		"missing vex":    {"vex: [vex/none.json]", "vex[0]: open"},
		"invalid vex":    {"vex: [scan/trivy-photon-30.json]", "vex[0]: "},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := newScanFromYAML(t, c.yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	g := mustScan(t, "sources: [report, attestation, ecr]\nattestation: {keys: [signed/keys/cosign.pub]}\nmaxSeverity: HIGH\nfixableOnly: true\nallowUnbound: true\nvex: [vex/app.openvex.json]\nignore:\n  - {id: CVE-2024-0001, until: 2027-01-31, reason: \"not reachable\"}\n")
	sg := g.(*scanGate)
	assert.Equal(t, []string{"report", "attestation", "ecr"}, sg.sources)
	assert.Equal(t, "high", sg.policy.maxName)
	assert.True(t, sg.allowUnbound)
	require.Len(t, sg.policy.vex, 1)
	assert.Equal(t, "../testdata/vex/app.openvex.json", sg.policy.vex[0].name, "VEX paths resolve against the configuration's directory")
	d := mustScan(t, "")
	assert.Equal(t, []string{"report"}, d.(*scanGate).sources, "report is the default source")
	assert.Equal(t, "none", d.(*scanGate).policy.maxName, "any finding fails by default")
}
