// Package vuln is the common model of vulnerability scan results and the
// parsers that read scanners' output into it: Trivy JSON (schema 2), Grype
// JSON, the ECR DescribeImageScanFindings response, the cosign vulnerability
// attestation predicate, and OpenVEX documents. Parsing does no I/O and
// ignores fields it does not use; the scan gate applies policy.
package vuln

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Severity is a normalized severity, ordered UNKNOWN < LOW < MEDIUM < HIGH <
// CRITICAL. Scanners' spellings map onto it: Grype's "Negligible" and ECR's
// "INFORMATIONAL" become LOW (the lowest assessed severity); ECR's
// "UNDEFINED" and "UNTRIAGED" and anything unrecognised become UNKNOWN, which
// ranks below LOW as every scanner ranks it.
type Severity int

// The normalized severities, lowest first.
const (
	Unknown Severity = iota
	Low
	Medium
	High
	Critical
)

// Severities lists every severity, highest first (the order of evidence).
var Severities = []Severity{Critical, High, Medium, Low, Unknown}

var severityNames = [...]string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String renders the severity in capitals, as Trivy spells it.
func (s Severity) String() string {
	if s < Unknown || s > Critical {
		return "UNKNOWN"
	}
	return severityNames[s]
}

// ParseSeverity maps a scanner's severity spelling (any case) onto Severity.
func ParseSeverity(s string) Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return Critical
	case "HIGH", "IMPORTANT":
		return High
	case "MEDIUM", "MODERATE":
		return Medium
	case "LOW", "NEGLIGIBLE", "INFORMATIONAL":
		return Low
	}
	return Unknown
}

// Finding is one (vulnerability, package) pair as a scanner reported it.
type Finding struct {
	ID               string   // CVE-…, GHSA-…, as the scanner keys it
	Aliases          []string // related ids the scanner lists (Grype relatedVulnerabilities, Trivy VendorIDs)
	Severity         Severity
	ScannerSeverity  string // the scanner's own spelling
	Package          string
	InstalledVersion string
	FixedVersion     string
	// Fixable says the scanner knows of a fixed version: Trivy FixedVersion
	// set or Status "fixed"; Grype fix.state "fixed"; ECR enhanced
	// fixedInVersion set or fixAvailable YES/PARTIAL. ECR basic scanning
	// carries no fix information, so its findings are Fixable (fail closed).
	Fixable bool
	PURL    string // package URL when the scanner gives one
	Target  string // Trivy Result.Target, Grype artifact type, ECR package manager
}

// Names returns the finding's id followed by its aliases.
func (f Finding) Names() []string { return append([]string{f.ID}, f.Aliases...) }

// DigestKind says what a digest in a report names.
type DigestKind string

// Digest kinds: the manifest digest (repo digests, ECR imageDigest, an
// attestation subject) or the config digest (Trivy ImageID, Grype imageID).
const (
	ManifestDigest DigestKind = "manifest"
	ConfigDigest   DigestKind = "config"
)

// Digest is a digest a report says it was made from, and the field it came from.
type Digest struct {
	Value string // algorithm:hex
	Kind  DigestKind
	Field string // e.g. Metadata.ImageID
}

// Format names a report format.
type Format string

// The formats Detect recognises.
const (
	FormatTrivy      Format = "trivy"
	FormatGrype      Format = "grype"
	FormatECR        Format = "ecr"
	FormatCosignVuln Format = "cosign-vuln"
	FormatDSSE       Format = "dsse"
)

// Report is one scan's result in the common model.
type Report struct {
	Format         Format
	Scanner        string // trivy, grype, ecr, or the cosign predicate's scanner uri
	ScannerVersion string // empty when the report does not say
	DBUpdated      time.Time
	DBVersion      string // free text when the format carries no date (cosign scanner.db)
	// ScannedAt is when the scan ran (zero when the report does not say);
	// ScannedAtField names the field it is read from, set even when the
	// report lacks it (CreatedAt, descriptor.timestamp…).
	ScannedAt      time.Time
	ScannedAtField string
	Digests        []Digest // empty when the report names no digest (unbound)
	Platform       string   // os/arch[/variant] when the report says
	// Status and StatusDescription are the ECR scan status (COMPLETE, ACTIVE,
	// IN_PROGRESS, FAILED…); empty for other formats.
	Status            string
	StatusDescription string
	// ScannerIgnored counts findings the scanner's own configuration set
	// aside (Grype ignoredMatches); they are not in Findings.
	ScannerIgnored int
	Findings       []Finding
}

// Counts returns the number of findings per severity.
func (r *Report) Counts() map[Severity]int {
	out := map[Severity]int{}
	for _, f := range r.Findings {
		out[f.Severity]++
	}
	return out
}

var digestRE = regexp.MustCompile(`^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$`)

// digestOf extracts a well-formed digest from "algo:hex" or "repo@algo:hex";
// it returns "" for anything else.
func digestOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if !digestRE.MatchString(s) {
		return ""
	}
	return s
}

// addDigest appends a well-formed digest to r, once per value and kind.
func (r *Report) addDigest(value string, kind DigestKind, field string) {
	d := digestOf(value)
	if d == "" {
		return
	}
	for _, have := range r.Digests {
		if have.Value == d && have.Kind == kind {
			return
		}
	}
	r.Digests = append(r.Digests, Digest{Value: d, Kind: kind, Field: field})
}

// parseTime accepts RFC 3339 with or without fractions; "" and errors give zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// parseScanTime reads a report's scan time: "" and Go's zero time
// (0001-01-01T00:00:00Z, as empty cosign predicates carry) give zero, which
// the gate treats as undated; any other text that is not RFC 3339 is an
// error, since a scan time that cannot be read cannot be judged.
func parseScanTime(field, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", field, s)
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// platformName renders os/arch[/variant], or "" without an os.
func platformName(os, arch, variant string) string {
	if os == "" || arch == "" {
		return ""
	}
	p := os + "/" + arch
	if variant != "" {
		p += "/" + variant
	}
	return p
}
