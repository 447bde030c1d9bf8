package gates

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates/vuln"
)

// scanEvidence collects what the ledger keeps of a scan verdict. Every value
// is a string, number, bool, slice or map, so it marshals deterministically.
type scanEvidence struct {
	bySource  map[string]any
	reports   []map[string]any
	scanned   []string       // "trivy 0.50.1 db 2024-01-01", one per distinct scanner
	ignoreUse map[int]int    // ignore index -> findings set aside
	vexUse    map[string]int // "CVE… not_affected (justification) in doc" -> findings set aside
}

func (e *scanEvidence) use(f vuln.Finding, o outcome) {
	switch o.d {
	case ignored:
		e.ignoreUse[o.ignore]++
	case vexed:
		st := o.vex
		key := fmt.Sprintf("%s %s", f.ID, st.Status)
		if st.Justification != "" {
			key += " (" + st.Justification + ")"
		}
		e.vexUse[key+" in "+st.doc]++
	}
}

func (e *scanEvidence) addReport(br boundReport, refs subjectRefs) {
	r := br.report
	boundTo := []string{}
	for _, d := range br.b.matched {
		boundTo = append(boundTo, fmt.Sprintf("%s (%s)", d.Value, d.Field))
	}
	covers := []string{}
	for _, i := range br.b.covers {
		covers = append(covers, refs.platforms[i].name)
	}
	counts := severityCounts(r.Counts())
	e.reports = append(e.reports, map[string]any{
		"source": br.source, "name": br.name, "format": string(r.Format),
		"scanner": r.Scanner, "scannerVersion": r.ScannerVersion, "db": dbDate(r),
		"scannedAt": dateTime(r.ScannedAt), "boundTo": boundTo, "unbound": br.b.unbound,
		"covers": covers, "findings": len(r.Findings), "reported": counts,
		"scannerIgnored": r.ScannerIgnored,
	})
	s := r.Scanner
	if r.ScannerVersion != "" {
		s += " " + r.ScannerVersion
	}
	s += " db " + dbDate(r)
	if !slices.Contains(e.scanned, s) {
		e.scanned = append(e.scanned, s)
	}
}

func (e *scanEvidence) scanners() []string { return e.scanned }

// render assembles the evidence map.
func (e *scanEvidence) render(g *scanGate, total *tally, problems []string, now time.Time) map[string]any {
	ev := total.evidence()
	ev["sources"] = slices.Clone(g.sources)
	ev["maxSeverity"] = g.policy.maxName
	ev["fixableOnly"] = g.policy.fixableOnly
	ev["bySource"] = e.bySource
	ev["reports"] = e.reports
	ev["judgedAt"] = now.Format(time.RFC3339)
	if len(problems) > 0 {
		ev["problems"] = problems
	}
	if exp := g.policy.expired(now); len(exp) > 0 {
		ev["expiredIgnores"] = exp
	}
	var applied []string
	for i, ig := range g.policy.ignores {
		if n := e.ignoreUse[i]; n > 0 {
			applied = append(applied, fmt.Sprintf("%s until %s: %s (%s)", ig.id, ig.until, ig.reason, plural(n, "finding")))
		}
	}
	if len(applied) > 0 {
		ev["ignoresApplied"] = applied
	}
	if len(e.vexUse) > 0 {
		var vex []string
		for k, n := range e.vexUse {
			vex = append(vex, fmt.Sprintf("%s (%s)", k, plural(n, "finding")))
		}
		sort.Strings(vex)
		ev["vexApplied"] = capList(vex)
	}
	return ev
}

// evidence renders a tally: counts after suppression, what was suppressed
// and the blocking ids.
func (t *tally) evidence() map[string]any {
	ev := map[string]any{
		"counts":     severityCounts(t.counts),
		"suppressed": map[string]int{"vex": t.vexed, "ignored": t.ignored, "notFixable": t.notFixable},
	}
	if len(t.blocking) > 0 {
		ids := blockingList(t)
		ev["blocking"] = capList(ids)
		ev["blockingIDs"] = len(ids)
		ev["blockingFindings"] = t.blockingN
	}
	return ev
}

// blockingList renders the blocking ids as "ID (SEVERITY)", highest severity first, then by id.
func blockingList(t *tally) []string {
	ids := make([]string, 0, len(t.blocking))
	for id := range t.blocking {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		si, sj := t.blocking[ids[i]], t.blocking[ids[j]]
		if si != sj {
			return si > sj
		}
		return ids[i] < ids[j]
	})
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%s (%s)", id, t.blocking[id])
	}
	return out
}

func capList(l []string) []string {
	if len(l) > maxBlockingShown {
		return append(l[:maxBlockingShown:maxBlockingShown], fmt.Sprintf("… and %d more", len(l)-maxBlockingShown))
	}
	return l
}

func severityCounts(m map[vuln.Severity]int) map[string]int {
	out := map[string]int{}
	for _, sev := range vuln.Severities {
		out[sev.String()] = m[sev]
	}
	return out
}

// dbDate renders a report's database date (YYYY-MM-DD), its version text, or "unknown".
func dbDate(r *vuln.Report) string {
	switch {
	case !r.DBUpdated.IsZero():
		return r.DBUpdated.Format(time.DateOnly)
	case strings.TrimSpace(r.DBVersion) != "":
		return r.DBVersion
	}
	return "unknown"
}

func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
