package promote

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// reportVulnerability judges what runs with env's scan gates again, now:
// an ECR target's current scan findings (enhanced scanning re-scans
// continuously; inspect reads them for an ECR environment), else the
// freshest vulnerability attestation attached to the digest. Findings
// above the environment's threshold now, where the promotion passed the
// gate, are a vulnerable finding ("newly vulnerable") with the gate's
// evidence. A scan gate that cannot judge without a report given at
// promotion (sources: [report]) leaves the state unknown, said so; one
// with other sources too is judged from those.
func (e *Engine) reportVulnerability(ctx context.Context, env *config.Environment, app string, ri *RunningImage, subj *gates.Subject) error {
	var passed *ledger.Record
	for _, g := range env.Gates {
		if g.Kind != "scan" {
			continue
		}
		if passed == nil {
			recs, err := e.led.Records(ctx, ledger.Query{App: app, Env: env.Name, Kinds: []ledger.Kind{ledger.KindPromotion}, Digest: ri.Digest, Limit: 1})
			if err != nil {
				return fmt.Errorf("reading ledger: %w", err)
			}
			if len(recs) == 1 {
				passed = &recs[0]
			}
		}
		later, ok := gates.ScanWithoutReports(g.Gate)
		if !ok {
			ri.Vulnerability = "not judged again: the scan gate reads only the reports given at promotion (sources: [report]); " +
				"add the attestation or ecr source to judge what runs now"
			continue
		}
		o := evaluate(ctx, config.Gate{Kind: g.Kind, Gate: later, Line: g.Line}, subj)
		switch o.Verdict {
		case verdict.Pass:
			ri.Vulnerability = "clean now: " + o.Reason
		case verdict.Error:
			ri.Vulnerability = "not judged again: " + o.Reason
		default:
			reason := "vulnerable now: " + o.Reason
			if passed != nil && passedGate(passed.Gates, "scan") {
				reason = fmt.Sprintf("newly vulnerable: it passed %s's scan gate when promoted (%s, record %s), and now %s",
					env.Name, passed.Time.UTC().Format("2006-01-02"), passed.ID, o.Reason)
			}
			ri.Vulnerability = "vulnerable"
			ri.Findings = append(ri.Findings, Finding{Kind: FindingVulnerable, Reason: reason, Evidence: o.Evidence})
		}
	}
	return nil
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
