package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrUnknownFormat is returned (wrapped) for JSON that is no format this package reads.
var ErrUnknownFormat = errors.New("unrecognised scan report format")

// Detect names the format of a report from its top-level keys:
//   - Trivy: "SchemaVersion" (must be 2) with "Results" or "ArtifactName";
//   - Grype: "matches" and "descriptor";
//   - ECR: "imageScanFindings" or "imageScanStatus" (a DescribeImageScanFindings response);
//   - cosign vuln: an in-toto Statement whose predicateType is PredicateCosignVuln,
//     or a bare predicate with "scanner" and "invocation";
//   - a DSSE envelope ("payloadType" and "payload"), which must be verified
//     and unwrapped before its payload is parsed.
func Detect(data []byte) (Format, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%w: empty file", ErrUnknownFormat)
	}
	if trimmed[0] == '[' && json.Valid(trimmed) {
		return "", fmt.Errorf("%w: a top-level JSON list (the Trivy format before schema 2?); produce the report with trivy --format json (schema 2) or grype -o json", ErrUnknownFormat)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return "", fmt.Errorf("not valid JSON: %w", err)
	}
	has := func(k string) bool { _, ok := top[k]; return ok }
	switch {
	case has("SchemaVersion"):
		var v int
		if err := json.Unmarshal(top["SchemaVersion"], &v); err != nil || v != 2 {
			return "", fmt.Errorf("%w: Trivy SchemaVersion %s; only schema 2 is read", ErrUnknownFormat, top["SchemaVersion"])
		}
		if !has("Results") && !has("ArtifactName") {
			return "", fmt.Errorf("%w: Trivy schema 2 without Results or ArtifactName", ErrUnknownFormat)
		}
		return FormatTrivy, nil
	case has("matches") && has("descriptor"):
		return FormatGrype, nil
	case has("imageScanFindings") || has("imageScanStatus"):
		return FormatECR, nil
	case has("payloadType") && has("payload"):
		return FormatDSSE, nil
	case has("_type") && has("predicateType"):
		var pt string
		_ = json.Unmarshal(top["predicateType"], &pt)
		if pt != PredicateCosignVuln {
			return "", fmt.Errorf("%w: an in-toto statement with predicateType %q, not %s", ErrUnknownFormat, pt, PredicateCosignVuln)
		}
		return FormatCosignVuln, nil
	case has("scanner") && has("invocation"):
		return FormatCosignVuln, nil
	}
	return "", fmt.Errorf("%w: expected Trivy JSON (SchemaVersion 2), Grype JSON (matches, descriptor), an ECR DescribeImageScanFindings response or a cosign vuln predicate", ErrUnknownFormat)
}

// Parse detects the format of data and parses it. A DSSE envelope is refused:
// its signature must be verified first (ParseCosignVulnStatement takes the payload).
func Parse(data []byte) (*Report, error) {
	f, err := Detect(data)
	if err != nil {
		return nil, err
	}
	switch f {
	case FormatTrivy:
		return ParseTrivy(data)
	case FormatGrype:
		return ParseGrype(data)
	case FormatECR:
		return ParseECR(data)
	case FormatCosignVuln:
		return ParseCosignVuln(data)
	}
	return nil, fmt.Errorf("%w: a DSSE envelope; verify its signature and parse its payload", ErrUnknownFormat)
}
