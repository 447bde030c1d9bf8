package gates

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/promote-dev/promote/gates/vuln"
)

// ScanConfig is the scan gate's configuration.
type ScanConfig struct {
	// Sources lists where findings come from; every one listed is required.
	// "report" (--scan-report files), "attestation" (a signed cosign vuln
	// attestation attached to the digest) and "ecr" (ECR's scan of each
	// platform image). Default [report].
	Sources []string `yaml:"sources"`
	// MaxSeverity is the highest severity allowed: none, low, medium, high or
	// critical. Findings above it fail; "none" fails on any finding. Default none.
	MaxSeverity string `yaml:"maxSeverity"`
	// FixableOnly counts only findings the scanner knows a fix for.
	FixableOnly bool `yaml:"fixableOnly"`
	// Unknown says what a finding of unknown or unrecognised severity
	// (Trivy UNKNOWN, ECR UNDEFINED, a spelling the gate does not know)
	// does: "block" (default) or "allow".
	Unknown string `yaml:"unknown"`
	// Ignore sets findings aside by id until a date.
	Ignore []IgnoreRule `yaml:"ignore"`
	// VEX lists OpenVEX documents, relative to the configuration file; their
	// not_affected and fixed statements set findings aside.
	VEX []string `yaml:"vex"`
	// MatchAliases lets ignore entries and VEX statements match a finding
	// by the aliases its scanner lists (and a VEX statement by its own
	// aliases). Without it they match the finding's own id only.
	MatchAliases bool `yaml:"matchAliases"`
	// MaxReportAge is how long ago a scan may have run, at judging time
	// ("7d", "2w", "36h"); default 7d. A scan is dated by Trivy CreatedAt,
	// Grype descriptor.timestamp, ECR imageScanCompletedAt, or an
	// attestation's signed metadata.scanFinishedOn (the embedded result's
	// own time when earlier).
	MaxReportAge string `yaml:"maxReportAge"`
	// MaxDBAge, when set, is how old the scanner's vulnerability database
	// may be at judging time (Grype descriptor.db.built, Trivy
	// client/server's VulnerabilityDB.UpdatedAt, ECR
	// vulnerabilitySourceUpdatedAt); a scan that does not date its
	// database is then refused. Not checked by default.
	MaxDBAge string `yaml:"maxDBAge"`
	// AllowUndated accepts a scan that does not say when it ran (it is
	// refused by default).
	AllowUndated bool `yaml:"allowUndated"`
	// AllowUnbound accepts reports that name no digest at all (a report that
	// names another digest is refused regardless).
	AllowUnbound bool `yaml:"allowUnbound"`
	// ECRWait bounds how long the ecr source waits for a scan to finish
	// (default 10m).
	ECRWait Duration `yaml:"ecrWait"`
	// Attestation says who may sign the vulnerability attestations the
	// attestation source reads (the signed gate's keys, identities and
	// trusted root). Required with that source.
	Attestation *SignedConfig `yaml:"attestation"`
}

// IgnoreRule sets one vulnerability aside until the end of a day (UTC).
type IgnoreRule struct {
	ID     string `yaml:"id"`
	Until  string `yaml:"until"` // YYYY-MM-DD, inclusive
	Reason string `yaml:"reason"`
}

// Scan sources.
const (
	SourceReport      = "report"
	SourceAttestation = "attestation"
	SourceECR         = "ecr"
)

type scanGate struct {
	sources      []string
	policy       scanPolicy
	fresh        freshness
	allowUnbound bool
	attest       *SignatureVerifier // set when the attestation source is configured
	ecrWait      time.Duration
}

func init() {
	Register("scan", func(s Settings) (Gate, error) {
		var c ScanConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		for i, p := range c.VEX {
			c.VEX[i] = s.Path(p)
		}
		g, err := NewScan(c)
		if err != nil {
			return nil, err
		}
		sg := g.(*scanGate)
		switch {
		case slices.Contains(sg.sources, SourceAttestation) && c.Attestation == nil:
			return nil, fmt.Errorf("attestation: the attestation source needs the keys or identities that sign vulnerability attestations, such as attestation: {keys: [keys/scanner.pub]}")
		case c.Attestation != nil && !slices.Contains(sg.sources, SourceAttestation):
			return nil, fmt.Errorf("attestation: set, but sources does not list attestation")
		case c.Attestation != nil:
			v, err := NewSignatureVerifier(*c.Attestation, s)
			if err != nil {
				return nil, fmt.Errorf("attestation: %w", err)
			}
			sg.attest = v
		}
		return sg, nil
	})
}

// NewScan validates c, reads its VEX documents and builds the scan gate.
// Errors name the field at fault.
func NewScan(c ScanConfig) (Gate, error) {
	sources := c.Sources
	if len(sources) == 0 {
		sources = []string{SourceReport}
	}
	seen := map[string]bool{}
	for i, src := range sources {
		switch src {
		case SourceReport, SourceAttestation, SourceECR:
		default:
			return nil, fmt.Errorf("sources[%d]: unknown source %q; expected report, attestation or ecr", i, src)
		}
		if seen[src] {
			return nil, fmt.Errorf("sources[%d]: %s listed twice", i, src)
		}
		seen[src] = true
	}
	p, err := newScanPolicy(c)
	if err != nil {
		return nil, err
	}
	fresh, err := newFreshness(c.MaxReportAge, c.MaxDBAge, c.AllowUndated)
	if err != nil {
		return nil, err
	}
	for i, path := range c.VEX {
		doc, err := readVEX(path)
		if err != nil {
			return nil, fmt.Errorf("vex[%d]: %w", i, err)
		}
		p.vex = append(p.vex, vexSource{name: path, doc: doc})
	}
	wait := time.Duration(c.ECRWait)
	if wait == 0 {
		wait = 10 * time.Minute
	}
	return &scanGate{sources: slices.Clone(sources), policy: p, fresh: fresh, allowUnbound: c.AllowUnbound, ecrWait: wait}, nil
}

func readVEX(path string) (*vuln.VEXDocument, error) {
	if path == "" {
		return nil, fmt.Errorf("empty path")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := vuln.ParseOpenVEX(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// collect gathers one source's findings for a subject. A source accepted in
// the configuration but not available makes Evaluate return an error.
func (g *scanGate) collect(ctx context.Context, src string, s *Subject) (sourceFindings, error) {
	switch {
	case src == SourceReport:
		return reportSource(s)
	case src == SourceAttestation && g.attest != nil:
		return attestationSource(ctx, g.attest, s)
	case src == SourceECR:
		return ecrSource(ctx, g.ecrWait, s)
	}
	return sourceFindings{}, fmt.Errorf("scan: source %s not available yet", src)
}

// Evaluate gathers findings from every configured source, binds them to the
// subject and judges them. It returns an error, not a rejection, when a
// report cannot be read or a source is not available: the engine fails closed.
func (g *scanGate) Evaluate(ctx context.Context, s *Subject) (Verdict, error) {
	gathered := make([]sourceFindings, 0, len(g.sources))
	for _, src := range g.sources {
		if err := ctx.Err(); err != nil {
			return Verdict{}, err
		}
		sf, err := g.collect(ctx, src, s)
		if err != nil {
			return Verdict{}, err
		}
		gathered = append(gathered, sf)
	}
	return g.decide(s, gathered), nil
}

// reportSource parses the --scan-report files. No file at all is a finding of
// the gate (it fails, saying what to pass); an unreadable one is an error.
func reportSource(s *Subject) (sourceFindings, error) {
	sf := sourceFindings{source: SourceReport}
	if len(s.Reports) == 0 {
		sf.missing = fmt.Sprintf("no scan report given: pass --scan-report FILE (Trivy or Grype JSON of %s)", s.Digest)
		return sf, nil
	}
	for _, rep := range s.Reports {
		r, err := vuln.Parse(rep.Data)
		if err != nil {
			return sf, fmt.Errorf("scan report %s: %w", rep.Name, err)
		}
		if r.Format != vuln.FormatTrivy && r.Format != vuln.FormatGrype {
			return sf, fmt.Errorf("scan report %s: %s output is not read from --scan-report; pass Trivy (schema 2) or Grype JSON", rep.Name, r.Format)
		}
		sf.reports = append(sf.reports, namedReport{name: rep.Name, report: r})
	}
	return sf, nil
}
