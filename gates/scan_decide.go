package gates

import (
	"fmt"
	"strings"
	"time"

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
	blocking   map[string]vuln.Severity // id -> highest severity seen
	blockingN  int                      // blocking findings (id, package pairs)
}

func newTally() *tally {
	return &tally{counts: map[vuln.Severity]int{}, blocking: map[string]vuln.Severity{}}
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
		if o.blocking {
			t.blockingN++
			if sev, ok := t.blocking[f.ID]; !ok || f.Severity > sev {
				t.blocking[f.ID] = f.Severity
			}
		}
	}
}

func (t *tally) suppressed() int { return t.vexed + t.ignored + t.notFixable }

// decide is the pure judgement: bind every source's reports to the subject,
// classify every finding of the bound reports, and render the verdict.
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
		t := newTally()
		for _, br := range bound {
			for _, f := range br.report.Findings {
				o := g.policy.classify(f, now, subject)
				t.add(f, o)
				total.add(f, o)
				ev.use(f, o)
			}
			ev.addReport(br, refs)
		}
		ev.bySource[sf.source] = t.evidence()
	}
	v := Verdict{Gate: "scan", Evidence: ev.render(g, total, problems, now)}
	var fails []string
	fails = append(fails, problems...)
	if len(total.blocking) > 0 {
		fails = append(fails, g.blockingReason(total))
		for _, ig := range g.policy.ignores {
			if _, blocks := total.blocking[ig.id]; blocks && !ig.active(now) {
				fails = append(fails, fmt.Sprintf("ignore %s expired %s", ig.id, ig.until))
			}
		}
	}
	if len(fails) > 0 {
		v.Reason = strings.Join(fails, "; ")
		return v
	}
	v.Pass = true
	v.Reason = g.cleanReason(total, ev.scanners())
	return v
}

// blockingReason reads "2 findings above high: CVE-2019-5481 (CRITICAL), …".
func (g *scanGate) blockingReason(t *tally) string {
	ids := blockingList(t)
	shown := ids
	if len(shown) > maxReasonIDs {
		shown = shown[:maxReasonIDs]
	}
	list := strings.Join(shown, ", ")
	if more := len(ids) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	what := "above " + g.policy.maxName
	if g.policy.max < 0 {
		what = "with maxSeverity none"
	}
	return fmt.Sprintf("%s %s: %s", plural(t.blockingN, "finding"), what, list)
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

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
