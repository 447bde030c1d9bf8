package gates

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanReportBoundByConfigDigest(t *testing.T) {
	s := testSubject(t, "amd64")
	s.Reports = []Report{rebound(t, "trivy-photon-30.json", configOf(s.Images[0]), "")}
	v := evaluate(t, mustScan(t, "maxSeverity: high"), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "2 findings of 1 vulnerability above high: CVE-2019-5481 (CRITICAL)", v.Reason)
	rep := v.Evidence["reports"].([]map[string]any)[0]
	assert.Equal(t, []string{configOf(s.Images[0]) + " (Metadata.ImageID)"}, rep["boundTo"])
	assert.Equal(t, map[string]int{"CRITICAL": 2, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}, rep["reported"])

	v = evaluate(t, mustScan(t, "maxSeverity: critical"), s)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "clean at maxSeverity critical: 0 findings above it (2 critical, 1 high allowed); scanned by trivy dev, vulnerability database date unknown", v.Reason)
}

func TestScanReportBoundByManifestDigest(t *testing.T) {
	s := testSubject(t, "arm64")
	s.Reports = []Report{rebound(t, "grype-chainguard-ruby-test.json", "", s.Digest.String())}
	v := evaluate(t, mustScan(t, "maxSeverity: medium"), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "3 findings of 2 vulnerabilities above medium: CVE-2023-28755 (HIGH), GHSA-hv5j-3h9f-99c2 (HIGH)", v.Reason)
	assert.Contains(t, v.Evidence["reports"].([]map[string]any)[0]["boundTo"], s.Digest.String()+" (source.target.manifestDigest)")

	v = evaluate(t, mustScan(t, "maxSeverity: medium\nfixableOnly: true"), s)
	assert.Equal(t, "2 findings above medium: CVE-2023-28755 (HIGH), GHSA-hv5j-3h9f-99c2 (HIGH)", v.Reason, "the uri gem's CVE has fix state unknown")
	assert.Equal(t, "grype 0.61.1 db 2023-05-17", firstScanner(v))
}

func firstScanner(v Verdict) string {
	r := v.Evidence["reports"].([]map[string]any)[0]
	return r["scanner"].(string) + " " + r["scannerVersion"].(string) + " db " + r["db"].(string)
}

func TestScanRefusesReportOfAnotherImage(t *testing.T) {
	s := testSubject(t, "amd64")
	s.Reports = []Report{{Name: "trivy-photon-30.json", Data: scanFixture(t, "trivy-photon-30.json")}}
	v := evaluate(t, mustScan(t, "maxSeverity: critical"), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "scan report trivy-photon-30.json names sha256:5ccb5186b75cd13ff0d028f5b5b2bdf7ef7ca2b3d56eb2c6eb6c136077a6991a (Metadata.ImageID), not this image; no scan for linux/amd64", v.Reason)

	// A manifest digest of another image is refused as well.
	s.Reports = []Report{rebound(t, "grype-chainguard-ruby-test.json", "", otherDigest)}
	v = evaluate(t, mustScan(t, "maxSeverity: critical"), s)
	assert.False(t, v.Passed())
	assert.Contains(t, v.Reason, "scan report grype-chainguard-ruby-test.json names "+otherDigest+" (source.target.manifestDigest), not this image")

	// allowUnbound does not accept a report bound elsewhere.
	v = evaluate(t, mustScan(t, "maxSeverity: critical\nallowUnbound: true"), s)
	assert.False(t, v.Passed())
}

func TestScanConfigDigestDecidesOverIndexDigest(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	// Trivy run on an amd64 machine against the index: RepoDigests names the
	// index, ImageID the amd64 config. It covers amd64 only.
	s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", configOf(s.Images[0]), s.Digest.String())}
	v := evaluate(t, mustScan(t, ""), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "no scan for linux/arm64", v.Reason)

	// A config digest of no platform refuses the report, even beside the index digest.
	s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", otherDigest, s.Digest.String())}
	v = evaluate(t, mustScan(t, ""), s)
	assert.False(t, v.Passed())
	assert.Contains(t, v.Reason, "names "+otherDigest+" (Metadata.ImageID), not this image")
}

func TestScanCoverage(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	amd := rebound(t, "trivy-sl-micro-rancher5.4.json", configOf(s.Images[0]), "")
	arm := rebound(t, "trivy-alpine-310.json", "", s.Images[1].Digest.String())
	arm.Name = "arm64.json"

	s.Reports = []Report{amd}
	v := evaluate(t, mustScan(t, "maxSeverity: medium"), s)
	assert.Equal(t, "no scan for linux/arm64", v.Reason)

	s.Reports = []Report{amd, arm}
	v = evaluate(t, mustScan(t, "maxSeverity: medium"), s)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, "clean at maxSeverity medium: 0 findings above it (4 medium allowed); scanned by trivy dev, vulnerability database date unknown", v.Reason)
	reports := v.Evidence["reports"].([]map[string]any)
	assert.Equal(t, []string{"linux/amd64"}, reports[0]["covers"])
	assert.Equal(t, []string{"linux/arm64"}, reports[1]["covers"])

	// One report of the index digest itself covers every platform.
	s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", "", s.Digest.String())}
	v = evaluate(t, mustScan(t, ""), s)
	assert.True(t, v.Passed(), v.Reason)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, v.Evidence["reports"].([]map[string]any)[0]["covers"])
}

func TestScanToleratesOtherRepoDigests(t *testing.T) {
	s := testSubject(t, "amd64")
	// The same image under another repository may have another manifest
	// encoding; the config digest still identifies it.
	s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", configOf(s.Images[0]), otherDigest)}
	v := evaluate(t, mustScan(t, ""), s)
	assert.True(t, v.Passed(), v.Reason)
}

func TestScanConfigDigestFromManifestOrBytes(t *testing.T) {
	for name, strip := range map[string]func(*Image){
		"manifest only": func(img *Image) { img.ConfigRaw = nil },
		"bytes only":    func(img *Image) { img.Manifest = nil },
	} {
		s := testSubject(t, "amd64")
		cfg := configOf(s.Images[0])
		strip(&s.Images[0])
		s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", cfg, "")}
		v := evaluate(t, mustScan(t, ""), s)
		assert.True(t, v.Passed(), "%s: %s", name, v.Reason)
	}
}

func TestScanUnboundReport(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	s.Reports = []Report{{Name: "empty.json", Data: scanFixture(t, "grype-TestEmptyJsonPresenter.json")}}
	v := evaluate(t, mustScan(t, ""), s)
	assert.False(t, v.Passed())
	assert.Equal(t, "scan report empty.json is not bound to any digest (it names none; allowUnbound accepts such reports); no scan for linux/amd64; no scan for linux/arm64", v.Reason)

	v = evaluate(t, mustScan(t, "allowUnbound: true"), s)
	assert.False(t, v.Passed(), "this Grype snapshot has no descriptor.timestamp either")
	assert.Equal(t, "scan report empty.json does not say when it was scanned (no descriptor.timestamp): pass a report from a current scanner, or set allowUndated: true", v.Reason)

	v = evaluate(t, mustScan(t, "allowUnbound: true\nallowUndated: true"), s)
	assert.True(t, v.Passed(), v.Reason)
	rep := v.Evidence["reports"].([]map[string]any)[0]
	assert.Equal(t, true, rep["unbound"])
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, rep["covers"])

	s.Reports = []Report{rebound(t, "trivy-photon-30.json", "", "")}
	v = evaluate(t, mustScan(t, "allowUnbound: true\nmaxSeverity: high"), s)
	assert.Equal(t, "2 findings of 1 vulnerability above high: CVE-2019-5481 (CRITICAL)", v.Reason, "an accepted unbound report is judged")
}

func TestScanWithoutReports(t *testing.T) {
	s := testSubject(t, "amd64")
	v := evaluate(t, mustScan(t, "maxSeverity: critical"), s)
	assert.False(t, v.Passed())
	assert.Contains(t, v.Reason, "no scan report given: pass --scan-report FILE")
	assert.Contains(t, v.Reason, s.Digest.String())
}

func TestScanErrorsAreNotRejections(t *testing.T) {
	s := testSubject(t, "amd64")
	g := mustScan(t, "maxSeverity: critical")
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"malformed JSON": {[]byte(`{"SchemaVersion": 2, "Results": [`), "scan report bad.json: not valid JSON"},
		"unknown format": {[]byte(`{"bomFormat": "CycloneDX"}`), "scan report bad.json: unrecognised scan report format"},
		"ECR output":     {scanFixture(t, "ecr-describe-image-scan-findings.json"), "scan report bad.json: ecr output is not read from --scan-report"},
		"wrong types":    {[]byte(`{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": 7}]}]}`), "scan report bad.json: trivy report"},
	} {
		s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", configOf(s.Images[0]), ""), {Name: "bad.json", Data: c.data}}
		_, err := g.Evaluate(context.Background(), s)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}

	s.Reports = []Report{rebound(t, "trivy-sl-micro-rancher5.4.json", configOf(s.Images[0]), "")}
	_, err := mustScan(t, "sources: [report, ecr]").Evaluate(context.Background(), s)
	assert.ErrorContains(t, err, "is not an ECR repository", "no registry scans: an error, not a rejection")
	_, err = newScanFromYAML(t, "sources: [report, attestation]")
	assert.ErrorContains(t, err, "the attestation source needs the keys or identities")
	_, err = newScanFromYAML(t, "attestation: {keys: [signed/keys/cosign.pub]}")
	assert.ErrorContains(t, err, "sources does not list attestation")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = g.Evaluate(ctx, s)
	assert.ErrorIs(t, err, context.Canceled)
}
