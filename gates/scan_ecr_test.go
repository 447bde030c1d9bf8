package gates

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeScans answers each platform digest with the shared ECR fixture,
// rebound to that digest, with the status and severities a case sets.
type fakeScans struct {
	t        *testing.T
	status   string
	severity string
	err      error
	asked    []v1.Hash
	// completed and dbUpdated stamp imageScanCompletedAt and
	// vulnerabilitySourceUpdatedAt (epoch seconds, as ECR sends them);
	// zero means freshScan, and a day before it for the database.
	completed, dbUpdated time.Time
}

func (f *fakeScans) ScanFindings(_ context.Context, d v1.Hash) ([]byte, error) {
	f.asked = append(f.asked, d)
	if f.err != nil {
		return nil, f.err
	}
	var doc map[string]any
	require.NoError(f.t, json.Unmarshal(scanFixture(f.t, "ecr-describe-image-scan-findings.json"), &doc))
	doc["imageId"] = map[string]any{"imageDigest": d.String()}
	doc["imageScanStatus"] = map[string]any{"status": f.status, "description": "as set by the test"}
	sf := doc["imageScanFindings"].(map[string]any)
	completed, db := f.completed, f.dbUpdated
	if completed.IsZero() {
		completed = freshScan
	}
	if db.IsZero() {
		db = freshScan.Add(-24 * time.Hour)
	}
	sf["imageScanCompletedAt"], sf["vulnerabilitySourceUpdatedAt"] = completed.Unix(), db.Unix()
	for _, x := range sf["findings"].([]any) {
		x.(map[string]any)["severity"] = f.severity
	}
	sf["findingSeverityCounts"] = map[string]any{f.severity: 1}
	b, err := json.Marshal(doc)
	require.NoError(f.t, err)
	return b, nil
}

func TestScanECRSource(t *testing.T) {
	cases := []struct {
		name, status, severity string
		err                    error
		pass                   bool
		reason                 string
	}{
		{"complete and clean enough", "COMPLETE", "MEDIUM", nil, true, "clean at maxSeverity high"},
		{"continuous scanning active", "ACTIVE", "LOW", nil, true, "clean"},
		{"critical finding", "COMPLETE", "CRITICAL", nil, false, "CVE-2019-5188 (CRITICAL)"},
		{"scan failed", "FAILED", "LOW", nil, false, "ECR scan of linux/amd64 is FAILED (as set by the test)"},
		{"unsupported image", "UNSUPPORTED_IMAGE", "LOW", nil, false, "is UNSUPPORTED_IMAGE"},
		{"never scanned", "NOT_FOUND", "LOW", nil, false, "is NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSubject(t, "amd64", "arm64")
			f := &fakeScans{t: t, status: c.status, severity: c.severity, err: c.err}
			s.Scans = f
			v, err := mustScan(t, "sources: [ecr]\nmaxSeverity: high").Evaluate(context.Background(), s)
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
			require.Len(t, f.asked, 2, "an index has no scan of its own: each platform is read")
			assert.Equal(t, s.Images[0].Digest, f.asked[0])
			assert.Equal(t, s.Images[1].Digest, f.asked[1])
		})
	}
	s := testSubject(t, "amd64", "arm64")
	s.Scans = &fakeScans{t: t, err: errors.New("ECR scan still IN_PROGRESS when the wait ran out")}
	_, err := mustScan(t, "sources: [ecr]").Evaluate(context.Background(), s)
	assert.ErrorContains(t, err, "IN_PROGRESS", "a scan that never finished is an error (exit 1), not a rejection")
}

func TestScanECRScanMustBeFresh(t *testing.T) {
	s := testSubject(t, "amd64", "arm64")
	s.Scans = &fakeScans{t: t, status: "COMPLETE", severity: "LOW", completed: scanNow.Add(-10 * 24 * time.Hour)}
	v := evaluate(t, mustScan(t, "sources: [ecr]\nmaxSeverity: high"), s)
	assert.False(t, v.Passed(), "a 10-day-old ECR scan is refused at the default maxReportAge 7d")
	assert.Contains(t, v.Reason, "ECR scan of linux/amd64 was scanned 10d ago (at 2026-02-19T12:00:00Z), more than maxReportAge 7d")
	assert.Contains(t, v.Reason, "ECR scan of linux/arm64 was scanned 10d ago")
}
