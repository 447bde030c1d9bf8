package ecremu

import (
	"fmt"
	"time"
)

// DescribeImageScanFindings, answered from scans injected with SetScan.

type scanState struct {
	scan  Scan
	calls int // DescribeImageScanFindings calls so far
}

func newScanState(s Scan, now time.Time) *scanState {
	if s.Status == "" {
		s.Status = "COMPLETE"
		if s.Enhanced {
			s.Status = "ACTIVE"
		}
	}
	if s.CompletedAt.IsZero() {
		s.CompletedAt = now
	}
	if s.VulnerabilitySourceUpdatedAt.IsZero() {
		s.VulnerabilitySourceUpdatedAt = s.CompletedAt
	}
	return &scanState{scan: s}
}

// peek is the status the next call reports; advance consumes it.
func (st *scanState) peek() string {
	if st.calls < len(st.scan.Sequence) {
		return st.scan.Sequence[st.calls]
	}
	return st.scan.Status
}

func (st *scanState) advance() string {
	status := st.peek()
	st.calls++
	return status
}

var statusDescriptions = map[string]string{
	"COMPLETE":                 "The scan was completed successfully.",
	"ACTIVE":                   "Continuous scan is selected for image.",
	"IN_PROGRESS":              "The scan is in progress.",
	"PENDING":                  "The scan is pending.",
	"FAILED":                   "The scan failed.",
	"UNSUPPORTED_IMAGE":        "UnsupportedImageError: The operating system and/or package manager are not supported.",
	"SCAN_ELIGIBILITY_EXPIRED": "The image is no longer eligible for continuous scanning.",
	"FINDINGS_UNAVAILABLE":     "Scan findings are unavailable.",
}

type scanStatusOut struct {
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

type findingsSummary struct {
	ImageScanCompletedAt         *epochTime     `json:"imageScanCompletedAt,omitempty"`
	VulnerabilitySourceUpdatedAt *epochTime     `json:"vulnerabilitySourceUpdatedAt,omitempty"`
	FindingSeverityCounts        map[string]int `json:"findingSeverityCounts,omitempty"`
}

// hasFindings reports whether a status comes with findings.
func hasFindings(status string) bool { return status == "COMPLETE" || status == "ACTIVE" }

// summary is the scan as DescribeImages shows it, for a given status.
func (st *scanState) summary(status string) (*scanStatusOut, *findingsSummary) {
	desc := st.scan.Description
	if desc == "" {
		desc = statusDescriptions[status]
	}
	out := &scanStatusOut{Status: status, Description: desc}
	if !hasFindings(status) {
		return out, nil
	}
	counts := map[string]int{}
	for _, f := range st.scan.Findings {
		counts[f.Severity]++
	}
	for _, f := range st.scan.EnhancedFindings {
		counts[f.Severity]++
	}
	return out, &findingsSummary{ImageScanCompletedAt: epoch(st.scan.CompletedAt),
		VulnerabilitySourceUpdatedAt: epoch(st.scan.VulnerabilitySourceUpdatedAt), FindingSeverityCounts: counts}
}

func (c *controlCall) describeImageScanFindings(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string  `json:"registryId"`
		RepositoryName string  `json:"repositoryName"`
		ImageID        imageID `json:"imageId"`
		NextToken      string  `json:"nextToken"`
		MaxResults     *int    `json:"maxResults"`
	}
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	reg, repo, aerr := c.repoFor(in.RegistryID, in.RepositoryName)
	if aerr != nil {
		return nil, aerr
	}
	if in.ImageID.ImageDigest == "" && in.ImageID.ImageTag == "" {
		return nil, invalidParam("Invalid parameter at 'imageId' failed to satisfy constraint: 'imageId must have either imageDigest or imageTag'")
	}
	img, _ := repo.resolve(in.ImageID.ImageDigest, in.ImageID.ImageTag)
	if img == nil {
		return nil, imageNotFound(in.ImageID, repo.name, reg.id)
	}
	st := repo.scans[img.digest]
	if st == nil {
		return nil, awsError("ScanNotFoundException", fmt.Sprintf("Image scan does not exist for the image with '%s' in the repository with name '%s' in the registry with id '%s'", in.ImageID, repo.name, reg.id))
	}
	status := st.advance()
	statusOut, summary := st.summary(status)
	out := map[string]any{
		"registryId": reg.id, "repositoryName": repo.name,
		"imageId":         imageID{ImageDigest: img.digest, ImageTag: in.ImageID.ImageTag},
		"imageScanStatus": statusOut,
	}
	if summary == nil {
		return out, nil
	}
	findings := map[string]any{
		"imageScanCompletedAt":         summary.ImageScanCompletedAt,
		"vulnerabilitySourceUpdatedAt": summary.VulnerabilitySourceUpdatedAt,
		"findingSeverityCounts":        summary.FindingSeverityCounts,
	}
	n := len(st.scan.Findings)
	if st.scan.Enhanced {
		n = len(st.scan.EnhancedFindings)
	}
	start, end, next, aerr := paginate(n, in.MaxResults, in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	if st.scan.Enhanced {
		findings["enhancedFindings"] = st.scan.EnhancedFindings[start:end]
	} else {
		findings["findings"] = st.scan.Findings[start:end]
	}
	out["imageScanFindings"] = findings
	out["nextToken"] = next
	return out, nil
}
