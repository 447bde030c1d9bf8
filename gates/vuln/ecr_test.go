package vuln

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ecrEnhancedResponse follows the DescribeImageScanFindings response shape for
// enhanced (Amazon Inspector) scanning, with AWS CLI v2's ISO timestamps.
const ecrEnhancedResponse = `{
  "registryId": "111111111111",
  "repositoryName": "dev/web",
  "imageId": {"imageDigest": "sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6", "imageTag": "1.0"},
  "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
  "imageScanFindings": {
    "imageScanCompletedAt": "2026-01-05T10:00:00+00:00",
    "vulnerabilitySourceUpdatedAt": "2026-01-04T08:30:00+00:00",
    "findingSeverityCounts": {"HIGH": 1, "CRITICAL": 1, "MEDIUM": 1},
    "enhancedFindings": [
      {"severity": "CRITICAL", "status": "ACTIVE", "fixAvailable": "PARTIAL", "title": "CVE-2026-0001 - openssl",
       "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-0001", "relatedVulnerabilities": ["GHSA-aaaa-bbbb-cccc"],
         "vulnerablePackages": [
           {"name": "openssl", "version": "3.0.1", "release": "r0", "packageManager": "OS", "fixedInVersion": "3.0.2"},
           {"name": "libssl3", "version": "3.0.1", "packageManager": "OS", "fixedInVersion": "NotAvailable"}]}},
      {"severity": "HIGH", "status": "SUPPRESSED", "fixAvailable": "NO",
       "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-0002", "vulnerablePackages": [{"name": "zlib", "version": "1.2"}]}},
      {"severity": "MEDIUM", "status": "CLOSED", "fixAvailable": "YES",
       "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-0003", "vulnerablePackages": [{"name": "curl", "version": "8"}]}},
      {"severity": "UNTRIAGED", "status": "ACTIVE", "fixAvailable": "YES",
       "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2026-0004"}}
    ]
  }
}`

func TestParseECREnhanced(t *testing.T) {
	r, err := Parse([]byte(ecrEnhancedResponse))
	require.NoError(t, err)
	assert.Equal(t, FormatECR, r.Format)
	assert.Equal(t, "ACTIVE", r.Status)
	assert.Equal(t, time.Date(2026, 1, 4, 8, 30, 0, 0, time.UTC), r.DBUpdated)
	assert.Equal(t, time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), r.ScannedAt)
	require.Len(t, r.Findings, 4, "two packages of the first, the suppressed one, the one without packages; CLOSED skipped")
	first, second := r.Findings[0], r.Findings[1]
	assert.Equal(t, Finding{ID: "CVE-2026-0001", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Severity: Critical, ScannerSeverity: "CRITICAL",
		Package: "openssl", InstalledVersion: "3.0.1-r0", FixedVersion: "3.0.2", Fixable: true, Target: "OS"}, first)
	assert.False(t, second.Fixable, "PARTIAL: the package without a fixed version is not fixable")
	assert.Equal(t, "CVE-2026-0002", r.Findings[2].ID, "SUPPRESSED in Inspector still counts: the gate's own policy decides")
	assert.False(t, r.Findings[2].Fixable)
	assert.Equal(t, Unknown, r.Findings[3].Severity)
	assert.True(t, r.Findings[3].Fixable, "fixAvailable YES without package details")
}

func TestParseECRRefusesIncompleteFindings(t *testing.T) {
	_, err := Parse([]byte(`{"imageScanFindings": {"findings": []}, "nextToken": "abc"}`))
	assert.ErrorContains(t, err, "nextToken")
	_, err = Parse([]byte(`{"imageScanStatus": {"status": "COMPLETE"}, "imageScanFindings": {"findings": [], "findingSeverityCounts": {"HIGH": 2}}}`))
	assert.ErrorContains(t, err, "findingSeverityCounts sums to 2 but 0 findings are listed")
	_, err = Parse([]byte(`{"imageScanFindings": {"imageScanCompletedAt": true}}`))
	assert.Error(t, err)
	_, err = Parse([]byte(`{"imageScanFindings": {"enhancedFindings": [{"severity": "HIGH"}]}}`))
	assert.ErrorContains(t, err, "enhancedFindings[0]: no packageVulnerabilityDetails.vulnerabilityId")
}

func TestParseECRStatusWithoutFindings(t *testing.T) {
	r, err := Parse([]byte(`{"imageId": {"imageDigest": "sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6"}, "imageScanStatus": {"status": "FAILED", "description": "UnsupportedImageError"}}`))
	require.NoError(t, err)
	assert.Equal(t, "FAILED", r.Status, "the caller fails closed on every status but COMPLETE and ACTIVE")
	assert.Equal(t, "UnsupportedImageError", r.StatusDescription)
	assert.Empty(t, r.Findings)
}
