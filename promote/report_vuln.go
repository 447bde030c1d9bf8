package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// reportVulnerability judges what runs with env's scan gates again, now:
// an ECR target's current scan findings (enhanced scanning re-scans
// continuously; inspect reads them for an ECR environment), else the
// freshest vulnerability attestation attached to the digest. Findings
// above the threshold now, where the promotion passed the gate, are a
// vulnerable finding ("newly vulnerable") with the gate's evidence. A scan
// that is missing, too old or unbound now is no vulnerability: the state
// is unknown, said so (amber). A scan gate that reads only the reports
// given at promotion (sources: [report]) is not judged again; one with
// other sources too is judged from those. Several scan gates: the worst.
func (e *Engine) reportVulnerability(ctx context.Context, env *config.Environment, ri *RunningImage, subj *gates.Subject, promoted *ledger.Record) {
	var clean, unknown []string
	for _, g := range env.Gates {
		if g.Kind != "scan" {
			continue
		}
		later, ok := gates.ScanWithoutReports(g.Gate)
		if !ok {
			unknown = append(unknown, "the scan gate reads only the reports given at promotion (sources: [report]); "+
				"add the attestation or ecr source to judge what runs now")
			continue
		}
		o := evaluate(ctx, config.Gate{Kind: g.Kind, Gate: later, Line: g.Line}, subj)
		switch {
		case o.Verdict == verdict.Pass:
			clean = append(clean, o.Reason)
		case o.Verdict == verdict.Fail && blocking(o.Evidence) > 0:
			reason := "vulnerable now: " + o.Reason
			if promoted != nil && passedGate(promoted.Gates, "scan") {
				reason = fmt.Sprintf("newly vulnerable: it passed %s's scan gate when promoted (%s, record %s), and now %s",
					env.Name, promoted.Time.UTC().Format("2006-01-02"), promoted.ID, o.Reason)
			}
			ri.Findings = append(ri.Findings, Finding{Kind: FindingVulnerable, Reason: reason, Evidence: o.Evidence})
		default: // could not judge, or a scan missing, stale or unbound
			unknown = append(unknown, o.Reason)
		}
	}
	switch {
	case hasFinding(ri.Findings, FindingVulnerable):
		ri.Vulnerability = "vulnerable"
	case len(unknown) > 0:
		ri.Vulnerability = "not judged again: " + strings.Join(unknown, "; ")
		ri.Unknown = append(ri.Unknown, "vulnerability: "+strings.Join(unknown, "; "))
	case len(clean) > 0:
		ri.Vulnerability = "clean now: " + strings.Join(clean, "; ")
	}
}

// blocking is the scan gate's count of findings above its threshold.
func blocking(ev map[string]any) int {
	switch n := ev["blockingCount"].(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	return 0
}

// hasFinding reports whether fs holds a finding of kind.
func hasFinding(fs []Finding, kind string) bool {
	for _, f := range fs {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// passedGate reports whether the verdicts hold a pass of the gate kind.
func passedGate(gs []verdict.Result, kind string) bool {
	for _, g := range gs {
		if g.Name == kind && g.Passed() {
			return true
		}
	}
	return false
}
