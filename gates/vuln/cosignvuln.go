package vuln

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// PredicateCosignVuln is the predicate type of cosign's vulnerability attestation.
const PredicateCosignVuln = "https://cosign.sigstore.dev/attestation/vuln/v1"

// cosignVulnPredicate is the cosign vuln predicate. scanner.result holds the
// scanner's own output (cosign attest --type vuln puts the predicate file there).
type cosignVulnPredicate struct {
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI     string `json:"uri"`
			Version string `json:"version"`
		} `json:"db"`
		Result json.RawMessage `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  string `json:"scanStartedOn"`
		ScanFinishedOn string `json:"scanFinishedOn"`
	} `json:"metadata"`
}

// inTotoStatement is an in-toto Statement (v0.1 or v1).
type inTotoStatement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	Predicate json.RawMessage `json:"predicate"`
}

// ParseCosignVuln reads a cosign vuln predicate, bare or inside an in-toto
// Statement (see ParseCosignVulnStatement).
func ParseCosignVuln(data []byte) (*Report, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("cosign vuln predicate: %w", err)
	}
	if _, ok := probe["predicateType"]; ok {
		return ParseCosignVulnStatement(data)
	}
	return ParseCosignVulnPredicate(data)
}

// ParseCosignVulnStatement reads an in-toto Statement carrying a cosign vuln
// predicate, such as the payload of a verified DSSE envelope. The statement's
// subject digests bind the report. It does not verify anything: the caller
// must have verified the envelope's signature.
func ParseCosignVulnStatement(data []byte) (*Report, error) {
	var st inTotoStatement
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if st.PredicateType != PredicateCosignVuln {
		return nil, fmt.Errorf("in-toto statement: predicateType %q, expected %s", st.PredicateType, PredicateCosignVuln)
	}
	r, err := ParseCosignVulnPredicate(st.Predicate)
	if err != nil {
		return nil, err
	}
	var subj []Digest
	for i, s := range st.Subject {
		algos := make([]string, 0, len(s.Digest))
		for a := range s.Digest {
			algos = append(algos, a)
		}
		sort.Strings(algos)
		for _, a := range algos {
			if d := digestOf(a + ":" + s.Digest[a]); d != "" {
				subj = append(subj, Digest{Value: d, Kind: ManifestDigest, Field: fmt.Sprintf("subject[%d].digest.%s", i, a)})
			}
		}
	}
	r.Digests = append(subj, r.Digests...)
	return r, nil
}

// ParseCosignVulnPredicate reads a bare cosign vuln predicate. A null or
// absent scanner.result means no findings; a result that is Trivy or Grype
// JSON is parsed as such (its digests and database date are kept); any other
// result is an error, since its findings cannot be counted.
func ParseCosignVulnPredicate(data []byte) (*Report, error) {
	var p cosignVulnPredicate
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cosign vuln predicate: %w", err)
	}
	r := &Report{}
	res := bytes.TrimSpace(p.Scanner.Result)
	if len(res) > 0 && !bytes.Equal(res, []byte("null")) {
		inner, err := Parse(res)
		if err != nil {
			return nil, fmt.Errorf("cosign vuln predicate: scanner.result: %w", err)
		}
		if inner.Format != FormatTrivy && inner.Format != FormatGrype {
			return nil, fmt.Errorf("cosign vuln predicate: scanner.result is %s, expected Trivy or Grype JSON", inner.Format)
		}
		r = inner
	}
	r.Format = FormatCosignVuln
	if r.Scanner == "" {
		r.Scanner = p.Scanner.URI
	}
	if r.Scanner == "" {
		r.Scanner = "unnamed scanner"
	}
	if r.ScannerVersion == "" {
		r.ScannerVersion = p.Scanner.Version
	}
	r.DBVersion = strings.TrimSpace(p.Scanner.DB.URI + " " + p.Scanner.DB.Version)
	finished, err := parseScanTime("metadata.scanFinishedOn", p.Metadata.ScanFinishedOn)
	if err != nil {
		return nil, fmt.Errorf("cosign vuln predicate: %w", err)
	}
	// The signed scanFinishedOn dates the attestation. A scanner result
	// that says it ran earlier dates it instead: re-attesting an old
	// report does not make it fresh.
	inner, innerField := r.ScannedAt, r.ScannedAtField
	r.ScannedAt, r.ScannedAtField = finished, "metadata.scanFinishedOn"
	if !inner.IsZero() && (finished.IsZero() || inner.Before(finished)) {
		r.ScannedAt, r.ScannedAtField = inner, "scanner.result."+innerField
	}
	return r, nil
}
