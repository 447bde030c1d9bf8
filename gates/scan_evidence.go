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
	decided   []string       // attestations judged
	outvoted  []string       // attestations a newer one superseded
}

// supersede records which attestations were judged and which a newer one
// replaced, with their scan times.
func (e *scanEvidence) supersede(kept, superseded []boundReport) {
	for _, br := range kept {
		e.decided = append(e.decided, br.name+" scanned "+orUndated(br.report.ScannedAt))
	}
	for _, br := range superseded {
		e.outvoted = append(e.outvoted, br.name+" scanned "+orUndated(br.report.ScannedAt))
	}
}

func orUndated(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return stamp(t)
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

func (e *scanEvidence) addReport(br boundReport, refs subjectRefs, now time.Time) {
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
	rep := map[string]any{
		"source": br.source, "name": br.name, "format": string(r.Format),
		"scanner": r.Scanner, "scannerVersion": r.ScannerVersion, "db": dbDate(r),
		"scannedAt": dateTime(r.ScannedAt), "scanTimeField": scanTimeField(r), "age": "unknown",
		"boundTo": boundTo, "unbound": br.b.unbound,
		"covers": covers, "findings": len(r.Findings), "reported": counts,
		"scannerIgnored": r.ScannerIgnored,
	}
	if !r.ScannedAt.IsZero() {
		rep["age"] = signedAge(now.Sub(r.ScannedAt))
	}
	if !r.DBUpdated.IsZero() {
		rep["dbBuilt"], rep["dbAge"] = dateTime(r.DBUpdated), signedAge(now.Sub(r.DBUpdated))
	}
	e.reports = append(e.reports, rep)
	s := scannerText(r)
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
	ev["maxReportAge"] = limitText(g.fresh.maxReport)
	if g.fresh.maxDB > 0 {
		ev["maxDBAge"] = limitText(g.fresh.maxDB)
	}
	ev["allowUndated"] = g.fresh.allowUndated
	ev["unknown"] = unknownBlock
	if g.policy.allowUnknown {
		ev["unknown"] = unknownAllow
	}
	ev["matchAliases"] = g.policy.matchAliases
	if len(e.decided)+len(e.outvoted) > 0 {
		att := map[string]any{"decided": e.decided}
		if len(e.outvoted) > 0 {
			att["superseded"] = e.outvoted
		}
		ev["attestations"] = att
	}
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
	if t.blocks() {
		ids := append(knownBlocking(t), unknownBlocking(t)...)
		ev["blocking"] = capList(ids)
		ev["blockingIDs"] = len(ids)
		ev["blockingFindings"] = t.blockingN + t.unknownN
	}
	return ev
}

// unknownBlocking renders the ids blocking for their unknown severity as
// "ID (UNKNOWN)", or "ID (UNKNOWN: "spelling")" when the scanner spelt it
// otherwise, sorted by id.
func unknownBlocking(t *tally) []string {
	ids := make([]string, 0, len(t.unknown))
	for id := range t.unknown {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, id := range ids {
		switch sp := t.unknown[id]; {
		case sp == "":
			ids[i] = id + " (UNKNOWN: no severity given)"
		case strings.EqualFold(sp, "UNKNOWN"):
			ids[i] = id + " (UNKNOWN)"
		default:
			ids[i] = fmt.Sprintf("%s (UNKNOWN: %q)", id, sp)
		}
	}
	return ids
}

// signedAge renders an age for evidence; a time in the future reads "-3h".
func signedAge(d time.Duration) string {
	if d < 0 {
		return "-" + ageText(-d)
	}
	return ageText(d)
}

// knownBlocking renders the ids blocking above maxSeverity as "ID (SEVERITY)", highest severity first, then by id.
func knownBlocking(t *tally) []string {
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
// scannerText says in words which scanner made r and how fresh its
// database was: "scanned by trivy 0.50.1, vulnerability database of
// 2024-01-01".
func scannerText(r *vuln.Report) string {
	s := "scanned by " + r.Scanner
	if r.ScannerVersion != "" {
		s += " " + r.ScannerVersion
	}
	switch {
	case !r.DBUpdated.IsZero():
		return s + ", vulnerability database of " + r.DBUpdated.Format(time.DateOnly)
	case strings.TrimSpace(r.DBVersion) != "":
		return s + ", vulnerability database version " + r.DBVersion
	}
	return s + ", vulnerability database date unknown"
}

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
