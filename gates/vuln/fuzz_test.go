package vuln

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// addFiles adds every file matching the patterns (relative to this package)
// to the seed corpus; the reports are real scanner output kept in the
// repository's testdata (see testdata/scan/README.md).
func addFiles(f *testing.F, patterns ...string) {
	f.Helper()
	n := 0
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seed files match %q", patterns)
	}
}

// FuzzParseReport feeds arbitrary bytes to every scan report parser: Detect
// and Parse, and each format's own parser whatever the bytes look like
// (Trivy, Grype, ECR, cosign vuln predicate and in-toto statement, and the
// payload of a DSSE envelope, as the scan gate reads it once verified).
// Besides not panicking, each answer is a report or an error, never both or
// neither, and a report keeps the model's promises (see checkReport).
// Run: go test -run '^$' -fuzz '^FuzzParseReport$' -fuzztime 3m ./gates/vuln/
func FuzzParseReport(f *testing.F) {
	addFiles(f, "../../testdata/scan/*.json", "../../testdata/signed/vuln-predicate.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		format, derr := Detect(data)
		r, err := Parse(data)
		check(t, "Parse", r, err)
		if err == nil {
			if derr != nil || r.Format != format {
				t.Fatalf("Parse gave a %s report, Detect said %q, %v", r.Format, format, derr)
			}
		}
		for name, parse := range map[string]func([]byte) (*Report, error){
			"ParseTrivy": ParseTrivy, "ParseGrype": ParseGrype, "ParseECR": ParseECR,
			"ParseCosignVuln": ParseCosignVuln, "ParseCosignVulnStatement": ParseCosignVulnStatement,
			"ParseCosignVulnPredicate": ParseCosignVulnPredicate,
		} {
			r, err := parse(data)
			check(t, name, r, err)
			if name == "ParseECR" && err == nil {
				checkECRCounts(t, data, r)
			}
		}
		if format == FormatDSSE {
			var env struct{ Payload string }
			if json.Unmarshal(data, &env) == nil {
				if payload, err := base64.StdEncoding.DecodeString(env.Payload); err == nil {
					r, err := ParseCosignVulnStatement(payload)
					check(t, "ParseCosignVulnStatement(DSSE payload)", r, err)
				}
			}
		}
	})
}

// check asserts that a parser gave exactly one of a report and an error, and
// that a report is well formed.
func check(t *testing.T, parser string, r *Report, err error) {
	t.Helper()
	if (r == nil) == (err == nil) {
		t.Fatalf("%s returned report %v and error %v; want exactly one", parser, r != nil, err)
	}
	if r != nil {
		checkReport(t, parser, r)
	}
}

// checkReport asserts the promises of the common model: every finding has an
// id and a normalized severity that its scanner's spelling maps to, every
// digest is a well-formed digest of a known kind, and the counts add up.
func checkReport(t *testing.T, parser string, r *Report) {
	t.Helper()
	switch r.Format {
	case FormatTrivy, FormatGrype, FormatECR, FormatCosignVuln:
	default:
		t.Fatalf("%s: report format %q", parser, r.Format)
	}
	if r.Scanner == "" || r.ScannerIgnored < 0 {
		t.Fatalf("%s: scanner %q, %d ignored", parser, r.Scanner, r.ScannerIgnored)
	}
	for i, fd := range r.Findings {
		if fd.ID == "" {
			t.Fatalf("%s: finding %d has no id: %+v", parser, i, fd)
		}
		if fd.Severity < Unknown || fd.Severity > Critical || fd.Severity != ParseSeverity(fd.ScannerSeverity) {
			t.Fatalf("%s: finding %s has severity %d from %q", parser, fd.ID, fd.Severity, fd.ScannerSeverity)
		}
	}
	for _, d := range r.Digests {
		if digestOf(d.Value) != d.Value || (d.Kind != ManifestDigest && d.Kind != ConfigDigest) || d.Field == "" {
			t.Fatalf("%s: digest %+v", parser, d)
		}
	}
	total := 0
	for _, n := range r.Counts() {
		total += n
	}
	if total != len(r.Findings) {
		t.Fatalf("%s: counts add up to %d, %d findings", parser, total, len(r.Findings))
	}
}

// checkECRCounts asserts that an accepted ECR response lists at least as many
// findings as its findingSeverityCounts say there are, each count being a
// real count (not negative): otherwise findings were left out and the gate
// would judge an incomplete list.
func checkECRCounts(t *testing.T, data []byte, r *Report) {
	t.Helper()
	var resp struct {
		ImageScanFindings struct {
			Findings              []json.RawMessage      `json:"findings"`
			EnhancedFindings      []json.RawMessage      `json:"enhancedFindings"`
			FindingSeverityCounts map[string]json.Number `json:"findingSeverityCounts"`
		} `json:"imageScanFindings"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatalf("ParseECR accepted what does not decode: %v", err)
	}
	sum := new(big.Int)
	for sev, n := range resp.ImageScanFindings.FindingSeverityCounts {
		v, ok := new(big.Int).SetString(n.String(), 10)
		if !ok || v.Sign() < 0 {
			t.Fatalf("ParseECR accepted findingSeverityCounts.%s = %s", sev, n)
		}
		sum.Add(sum, v)
	}
	listed := len(resp.ImageScanFindings.Findings) + len(resp.ImageScanFindings.EnhancedFindings)
	if sum.Cmp(big.NewInt(int64(listed))) > 0 {
		t.Fatalf("ParseECR accepted findingSeverityCounts summing to %s with %d findings listed (%d in the report)",
			sum, listed, len(r.Findings))
	}
}

// FuzzParseOpenVEX feeds arbitrary bytes to the OpenVEX parser. Besides not
// panicking, an accepted document has only statements the specification
// allows (a known status, a vulnerability name), each dated when the
// document is, and a product's package URL matches itself.
// Run: go test -run '^$' -fuzz '^FuzzParseOpenVEX$' -fuzztime 3m ./gates/vuln/
func FuzzParseOpenVEX(f *testing.F) {
	addFiles(f, "../../testdata/vex/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ParseOpenVEX(data)
		if (doc == nil) == (err == nil) {
			t.Fatalf("ParseOpenVEX returned document %v and error %v; want exactly one", doc != nil, err)
		}
		if err != nil {
			return
		}
		for i, st := range doc.Statements {
			switch st.Status {
			case NotAffected, Affected, Fixed, UnderInvestigation:
			default:
				t.Fatalf("statement %d has status %q", i, st.Status)
			}
			if len(st.Vulnerability.Names()) == 0 {
				t.Fatalf("statement %d names no vulnerability", i)
			}
			if st.Timestamp.IsZero() && !doc.Timestamp.IsZero() {
				t.Fatalf("statement %d is undated in a document dated %s", i, doc.Timestamp)
			}
			for _, p := range st.Products {
				for _, c := range append([]VEXComponent{p.VEXComponent}, p.Subcomponents...) {
					for _, id := range []string{c.ID, c.PURL} {
						if _, _, ok := purlParts(id); ok && !PURLMatch(id, id) {
							t.Fatalf("package URL %q does not match itself", id)
						}
					}
				}
			}
		}
	})
}
