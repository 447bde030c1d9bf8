package vuln

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ecrResponse is the DescribeImageScanFindings response (as the ECR JSON
// protocol and `aws ecr describe-image-scan-findings` print it).
type ecrResponse struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	ImageID        struct {
		ImageDigest string `json:"imageDigest"`
	} `json:"imageId"`
	ImageScanStatus struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"imageScanStatus"`
	ImageScanFindings struct {
		Findings                     []ecrFinding         `json:"findings"`
		EnhancedFindings             []ecrEnhancedFinding `json:"enhancedFindings"`
		ImageScanCompletedAt         ecrTime              `json:"imageScanCompletedAt"`
		VulnerabilitySourceUpdatedAt ecrTime              `json:"vulnerabilitySourceUpdatedAt"`
		FindingSeverityCounts        map[string]int       `json:"findingSeverityCounts"`
	} `json:"imageScanFindings"`
	NextToken string `json:"nextToken"`
}

// ecrFinding is a basic-scanning finding.
type ecrFinding struct {
	Name       string `json:"name"`
	Severity   string `json:"severity"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// ecrEnhancedFinding is an enhanced-scanning (Amazon Inspector) finding.
type ecrEnhancedFinding struct {
	Severity     string `json:"severity"`
	Status       string `json:"status"` // ACTIVE, SUPPRESSED, CLOSED
	Title        string `json:"title"`
	FixAvailable string `json:"fixAvailable"` // YES, NO, PARTIAL
	Details      *struct {
		VulnerabilityID        string   `json:"vulnerabilityId"`
		RelatedVulnerabilities []string `json:"relatedVulnerabilities"`
		VulnerablePackages     []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			Release        string `json:"release"`
			FixedInVersion string `json:"fixedInVersion"`
			PackageManager string `json:"packageManager"`
		} `json:"vulnerablePackages"`
	} `json:"packageVulnerabilityDetails"`
}

// ecrTime is an ECR timestamp: epoch seconds (the JSON protocol, AWS CLI v1)
// or an ISO 8601 string (AWS CLI v2's default output).
type ecrTime struct{ time.Time }

func (t *ecrTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parsed, err := parseScanTime("timestamp", s)
		t.Time = parsed
		return err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// ParseECR reads a DescribeImageScanFindings response. It binds to
// imageId.imageDigest and records imageScanStatus for the caller to judge
// (COMPLETE, or ACTIVE for continuous scanning). The database date is
// vulnerabilitySourceUpdatedAt. Basic findings become one Finding each, marked
// Fixable because basic scanning gives no fix information; enhanced findings
// become one Finding per vulnerable package, and CLOSED ones are skipped. A
// response with a nextToken is an incomplete page and is refused: merge the
// pages first.
func ParseECR(data []byte) (*Report, error) {
	var e ecrResponse
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("ecr scan findings: %w", err)
	}
	if e.NextToken != "" {
		return nil, fmt.Errorf("ecr scan findings: nextToken is set, so this is one page of several; merge every page before judging")
	}
	sf := e.ImageScanFindings
	r := &Report{
		Format:            FormatECR,
		Scanner:           "ecr",
		DBUpdated:         sf.VulnerabilitySourceUpdatedAt.Time,
		ScannedAt:         sf.ImageScanCompletedAt.Time,
		ScannedAtField:    "imageScanFindings.imageScanCompletedAt",
		Status:            e.ImageScanStatus.Status,
		StatusDescription: e.ImageScanStatus.Description,
	}
	r.addDigest(e.ImageID.ImageDigest, ManifestDigest, "imageId.imageDigest")
	for i, f := range sf.Findings {
		if f.Name == "" {
			return nil, fmt.Errorf("ecr scan findings: findings[%d]: no name", i)
		}
		fd := Finding{ID: f.Name, Severity: ParseSeverity(f.Severity), ScannerSeverity: f.Severity, Fixable: true}
		for _, a := range f.Attributes {
			switch a.Key {
			case "package_name":
				fd.Package = a.Value
			case "package_version":
				fd.InstalledVersion = a.Value
			}
		}
		r.Findings = append(r.Findings, fd)
	}
	for i, f := range sf.EnhancedFindings {
		if strings.EqualFold(f.Status, "CLOSED") {
			continue
		}
		fds, err := ecrEnhanced(f)
		if err != nil {
			return nil, fmt.Errorf("ecr scan findings: enhancedFindings[%d]: %w", i, err)
		}
		r.Findings = append(r.Findings, fds...)
	}
	total := 0
	for _, sev := range slices.Sorted(maps.Keys(sf.FindingSeverityCounts)) {
		n := sf.FindingSeverityCounts[sev]
		if n < 0 {
			return nil, fmt.Errorf("ecr scan findings: findingSeverityCounts.%s is %d; a count is never negative", sev, n)
		}
		total = min(total, math.MaxInt-n) + n // saturates: a wrapped sum would hide findings
	}
	if listed := len(sf.Findings) + len(sf.EnhancedFindings); total > listed {
		return nil, fmt.Errorf("ecr scan findings: findingSeverityCounts sums to %d but %d findings are listed; the findings are incomplete", total, listed)
	}
	return r, nil
}

// ecrEnhanced turns one enhanced finding into one Finding per vulnerable
// package. A package is fixable when it has a fixedInVersion; when no package
// carries one, the finding's fixAvailable (YES or PARTIAL) decides.
func ecrEnhanced(f ecrEnhancedFinding) ([]Finding, error) {
	if f.Details == nil || f.Details.VulnerabilityID == "" {
		return nil, fmt.Errorf("no packageVulnerabilityDetails.vulnerabilityId")
	}
	base := Finding{
		ID: f.Details.VulnerabilityID, Aliases: f.Details.RelatedVulnerabilities,
		Severity: ParseSeverity(f.Severity), ScannerSeverity: f.Severity,
		Fixable: strings.EqualFold(f.FixAvailable, "YES") || strings.EqualFold(f.FixAvailable, "PARTIAL"),
	}
	pkgs := f.Details.VulnerablePackages
	if len(pkgs) == 0 {
		return []Finding{base}, nil
	}
	fixed := func(v string) bool { return v != "" && !strings.EqualFold(v, "NotAvailable") }
	perPackage := false
	for _, p := range pkgs {
		perPackage = perPackage || fixed(p.FixedInVersion)
	}
	out := make([]Finding, 0, len(pkgs))
	for _, p := range pkgs {
		fd := base
		fd.Package, fd.InstalledVersion, fd.Target = p.Name, p.Version, p.PackageManager
		if p.Release != "" {
			fd.InstalledVersion += "-" + p.Release
		}
		if perPackage {
			fd.Fixable = fixed(p.FixedInVersion)
			if fd.Fixable {
				fd.FixedVersion = p.FixedInVersion
			}
		}
		out = append(out, fd)
	}
	return out, nil
}
