package gates

import (
	"fmt"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/gates/vuln"
)

// Bounds on the blocking ids shown: evidence keeps maxBlockingShown, the reason maxReasonIDs.
const (
	maxBlockingShown = 20
	maxReasonIDs     = 5
)

// tally counts the findings of one source, or of all.
type tally struct {
	counts     map[vuln.Severity]int // findings that count, by severity
	vexed      int
	ignored    int
	notFixable int
	blocking   map[string]vuln.Severity // id -> highest known severity seen, for findings above max
	blockingN  int                      // blocking findings of known severity (id, package pairs)
	unknown    map[string]string        // id -> scanner's spelling, for blocking findings of unknown severity
	unknownN   int                      // blocking findings of unknown severity
}

func newTally() *tally {
	return &tally{counts: map[vuln.Severity]int{}, blocking: map[string]vuln.Severity{}, unknown: map[string]string{}}
}

func (t *tally) add(f vuln.Finding, o outcome) {
	switch o.d {
	case vexed:
		t.vexed++
	case ignored:
		t.ignored++
	case notFixable:
		t.notFixable++
	default:
		t.counts[f.Severity]++
		switch {
		case o.blocking && unknownSeverity(f.Severity):
			t.unknownN++
			if _, ok := t.unknown[f.ID]; !ok {
				t.unknown[f.ID] = f.ScannerSeverity
			}
		case o.blocking:
			t.blockingN++
			if sev, ok := t.blocking[f.ID]; !ok || f.Severity > sev {
				t.blocking[f.ID] = f.Severity
			}
		}
	}
}

func (t *tally) suppressed() int { return t.vexed + t.ignored + t.notFixable }

func (t *tally) blocks() bool { return len(t.blocking)+len(t.unknown) > 0 }

// decide is the pure judgement: bind every source's reports to the subject,
// keep the newest attestation per platform, check that every judged scan is
// fresh, classify every finding of the judged reports, and render the verdict.
func (g *scanGate) decide(s *Subject, gathered []sourceFindings) Verdict {
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	refs := refsOf(s)
	subject := refs.hexes()
	total := newTally()
	ev := &scanEvidence{bySource: map[string]any{}, ignoreUse: map[int]int{}, vexUse: map[string]int{}}
	var problems []string
	for _, sf := range gathered {
		bound, probs := bindSource(refs, sf, g.allowUnbound, len(gathered) > 1)
		problems = append(problems, probs...)
		if sf.source == SourceAttestation {
			var superseded []boundReport
			bound, superseded = newestPerPlatform(bound)
			ev.supersede(bound, superseded)
		}
		t := newTally()
		for _, br := range bound {
			problems = append(problems, g.fresh.check(br, now)...)
			for _, f := range br.report.Findings {
				o := g.policy.classify(f, now, subject)
				t.add(f, o)
				total.add(f, o)
				ev.use(f, o)
			}
			ev.addReport(br, refs, now)
		}
		ev.bySource[sf.source] = t.evidence()
	}
	v := Verdict{Name: "scan", Verdict: verdict.Fail, Evidence: ev.render(g, total, problems, now)}
	v.Evidence["images"] = s.Judged()
	// blockingCount counts the findings above the threshold (a failure without
	// them is a scan missing, stale or unbound, not a vulnerability).
	v.Evidence["blockingCount"] = len(total.blocking) + len(total.unknown)
	var fails []string
	fails = append(fails, problems...)
	if total.blocks() {
		fails = append(fails, g.blockingReason(total)...)
		for _, ig := range g.policy.ignores {
			_, blocks := total.blocking[ig.id]
			_, unknown := total.unknown[ig.id]
			if (blocks || unknown) && !ig.active(now) {
				fails = append(fails, fmt.Sprintf("ignore %s expired %s", ig.id, ig.until))
			}
		}
	}
	if len(fails) > 0 {
		v.Reason = strings.Join(fails, "; ")
		return v
	}
	v.Verdict = verdict.Pass
	v.Reason = g.cleanReason(total, ev.scanners())
	return v
}

// blockingReason reads "2 findings above high: CVE-2019-5481 (CRITICAL), …",
// and "1 finding of unknown severity: CVE-… (UNKNOWN); unknown severities
// block: …" when findings of unknown severity block.
func (g *scanGate) blockingReason(t *tally) []string {
	var out []string
	if len(t.blocking) > 0 {
		what := "above " + g.policy.maxName
		if g.policy.max < 0 {
			what = "with maxSeverity none"
		}
		out = append(out, fmt.Sprintf("%s %s: %s", findingsOf(t.blockingN, len(t.blocking)), what, shortList(knownBlocking(t))))
	}
	if len(t.unknown) > 0 {
		out = append(out, fmt.Sprintf("%s of unknown severity: %s", findingsOf(t.unknownN, len(t.unknown)), shortList(unknownBlocking(t))),
			"unknown severities block: triage them, or set unknown: allow")
	}
	return out
}

// shortList joins the first maxReasonIDs ids and counts the rest.
func shortList(ids []string) string {
	shown := ids
	if len(shown) > maxReasonIDs {
		shown = shown[:maxReasonIDs]
	}
	list := strings.Join(shown, ", ")
	if more := len(ids) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// cleanReason reads "clean at maxSeverity high: 0 above it (3 high, 4
// medium allowed; suppressed 2 vex, 1 ignored); trivy 0.50.1 db 2024-01-01".
func (g *scanGate) cleanReason(t *tally, scanners []string) string {
	var allowed []string
	for _, sev := range vuln.Severities {
		if n := t.counts[sev]; n > 0 {
			allowed = append(allowed, fmt.Sprintf("%d %s", n, strings.ToLower(sev.String())))
		}
	}
	var notes []string
	if len(allowed) > 0 {
		notes = append(notes, strings.Join(allowed, ", ")+" allowed")
	}
	if t.suppressed() > 0 {
		var sup []string
		for _, kv := range []struct {
			n    int
			name string
		}{{t.vexed, "vex"}, {t.ignored, "ignored"}, {t.notFixable, "not fixable"}} {
			if kv.n > 0 {
				sup = append(sup, fmt.Sprintf("%d %s", kv.n, kv.name))
			}
		}
		notes = append(notes, "suppressed "+strings.Join(sup, ", "))
	}
	head := "clean at maxSeverity " + g.policy.maxName + ": 0 findings above it"
	if g.policy.max < 0 {
		head = "clean: 0 findings"
	}
	if len(notes) > 0 {
		head += " (" + strings.Join(notes, "; ") + ")"
	}
	if len(scanners) > 0 {
		head += "; " + strings.Join(scanners, ", ")
	}
	return head
}

// findingsOf counts n findings of ids vulnerabilities, so that the count
// agrees with the IDs listed: one vulnerability in two packages is two
// findings ("2 findings of 1 vulnerability").
func findingsOf(n, ids int) string {
	if n == ids {
		return plural(n, "finding")
	}
	v := fmt.Sprintf("%d vulnerabilities", ids)
	if ids == 1 {
		v = "1 vulnerability"
	}
	return plural(n, "finding") + " of " + v
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
