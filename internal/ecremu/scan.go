package ecremu

import (
	"encoding/json"
	"time"
)

// Scan results are not computed: a test injects them with SetScan. These
// types are both the Go API and the wire format (ECR's member names).

// Scan is what DescribeImageScanFindings reports for one image.
type Scan struct {
	// Status is the status once Sequence is used up: COMPLETE (default for
	// basic scanning), ACTIVE (default for Enhanced), FAILED,
	// UNSUPPORTED_IMAGE, IN_PROGRESS, PENDING, SCAN_ELIGIBILITY_EXPIRED,
	// FINDINGS_UNAVAILABLE...
	Status string
	// Sequence is reported first, one entry per DescribeImageScanFindings
	// call (e.g. IN_PROGRESS, IN_PROGRESS), so a poller can be tested.
	Sequence []string
	// Description overrides the status description.
	Description string
	// Enhanced selects enhanced scanning (Amazon Inspector): findings are
	// reported as enhancedFindings and the final status defaults to ACTIVE.
	Enhanced                     bool
	Findings                     []Finding
	EnhancedFindings             []EnhancedFinding
	CompletedAt                  time.Time // default: when SetScan was called
	VulnerabilitySourceUpdatedAt time.Time // default: CompletedAt
}

// Finding is a basic-scanning finding (ECR's ImageScanFinding).
type Finding struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	URI         string      `json:"uri,omitempty"`
	Severity    string      `json:"severity"`
	Attributes  []Attribute `json:"attributes,omitempty"`
}

// Attribute is a finding attribute (package_name, package_version, CVSS2_SCORE...).
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// EnhancedFinding is an Amazon Inspector finding (ECR's EnhancedImageScanFinding).
type EnhancedFinding struct {
	AwsAccountID                string                       `json:"awsAccountId,omitempty"`
	Description                 string                       `json:"description,omitempty"`
	FindingArn                  string                       `json:"findingArn,omitempty"`
	FirstObservedAt             time.Time                    `json:"-"`
	LastObservedAt              time.Time                    `json:"-"`
	UpdatedAt                   time.Time                    `json:"-"`
	PackageVulnerabilityDetails *PackageVulnerabilityDetails `json:"packageVulnerabilityDetails,omitempty"`
	Remediation                 *Remediation                 `json:"remediation,omitempty"`
	Score                       float64                      `json:"score,omitempty"`
	ScoreDetails                *ScoreDetails                `json:"scoreDetails,omitempty"`
	Severity                    string                       `json:"severity"`
	Status                      string                       `json:"status,omitempty"`
	Title                       string                       `json:"title,omitempty"`
	Type                        string                       `json:"type,omitempty"`
	FixAvailable                string                       `json:"fixAvailable,omitempty"`
	ExploitAvailable            string                       `json:"exploitAvailable,omitempty"`
}

// MarshalJSON writes the timestamps as epoch seconds.
func (f EnhancedFinding) MarshalJSON() ([]byte, error) {
	type plain EnhancedFinding
	return json.Marshal(struct {
		plain
		FirstObservedAt *epochTime `json:"firstObservedAt,omitempty"`
		LastObservedAt  *epochTime `json:"lastObservedAt,omitempty"`
		UpdatedAt       *epochTime `json:"updatedAt,omitempty"`
	}{plain(f), epoch(f.FirstObservedAt), epoch(f.LastObservedAt), epoch(f.UpdatedAt)})
}

// PackageVulnerabilityDetails describes the vulnerability and packages.
type PackageVulnerabilityDetails struct {
	Cvss                   []CvssScore         `json:"cvss,omitempty"`
	ReferenceUrls          []string            `json:"referenceUrls,omitempty"`
	RelatedVulnerabilities []string            `json:"relatedVulnerabilities,omitempty"`
	Source                 string              `json:"source,omitempty"`
	SourceURL              string              `json:"sourceUrl,omitempty"`
	VendorSeverity         string              `json:"vendorSeverity,omitempty"`
	VulnerabilityID        string              `json:"vulnerabilityId,omitempty"`
	VulnerablePackages     []VulnerablePackage `json:"vulnerablePackages,omitempty"`
}

// VulnerablePackage is one affected package.
type VulnerablePackage struct {
	Arch            string `json:"arch,omitempty"`
	Epoch           int    `json:"epoch,omitempty"`
	FilePath        string `json:"filePath,omitempty"`
	Name            string `json:"name,omitempty"`
	PackageManager  string `json:"packageManager,omitempty"`
	Release         string `json:"release,omitempty"`
	SourceLayerHash string `json:"sourceLayerHash,omitempty"`
	Version         string `json:"version,omitempty"`
	FixedInVersion  string `json:"fixedInVersion,omitempty"`
}

// CvssScore is one CVSS score of a vulnerability.
type CvssScore struct {
	BaseScore     float64 `json:"baseScore,omitempty"`
	ScoringVector string  `json:"scoringVector,omitempty"`
	Source        string  `json:"source,omitempty"`
	Version       string  `json:"version,omitempty"`
}

// Remediation is Inspector's recommendation.
type Remediation struct {
	Recommendation *Recommendation `json:"recommendation,omitempty"`
}

// Recommendation is a remediation text and link.
type Recommendation struct {
	URL  string `json:"url,omitempty"`
	Text string `json:"text,omitempty"`
}

// ScoreDetails carries the CVSS details behind Score.
type ScoreDetails struct {
	Cvss *CvssScoreDetails `json:"cvss,omitempty"`
}

// CvssScoreDetails is the CVSS score Inspector used.
type CvssScoreDetails struct {
	Score         float64 `json:"score,omitempty"`
	ScoreSource   string  `json:"scoreSource,omitempty"`
	ScoringVector string  `json:"scoringVector,omitempty"`
	Version       string  `json:"version,omitempty"`
}
