package gates

import (
	"fmt"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates/vuln"
)

// scanPolicy is the validated policy: what blocks and what is set aside.
type scanPolicy struct {
	maxName      string // as configured: none, low, medium, high, critical
	max          int    // findings with a known severity above this block; -1 for none
	allowUnknown bool   // unknown: allow; otherwise a finding of unknown severity blocks
	fixableOnly  bool
	matchAliases bool // ignores and VEX may match a finding by its aliases
	ignores      []ignoreRule
	vex          []vexSource
}

// Values of ScanConfig.Unknown.
const (
	unknownBlock = "block"
	unknownAllow = "allow"
)

// ignoreRule is a validated IgnoreRule; it applies while now is before end.
type ignoreRule struct {
	id, until, reason string
	end               time.Time // midnight UTC after the until day
}

func (r ignoreRule) active(now time.Time) bool { return now.Before(r.end) }

var maxSeverities = map[string]int{
	"none": -1, "low": int(vuln.Low), "medium": int(vuln.Medium), "high": int(vuln.High), "critical": int(vuln.Critical),
}

func newScanPolicy(c ScanConfig) (scanPolicy, error) {
	name := strings.ToLower(strings.TrimSpace(c.MaxSeverity))
	if name == "" {
		name = "none"
	}
	max, ok := maxSeverities[name]
	if !ok {
		return scanPolicy{}, fmt.Errorf("maxSeverity: %q is not a severity; expected none, low, medium, high or critical", c.MaxSeverity)
	}
	p := scanPolicy{maxName: name, max: max, fixableOnly: c.FixableOnly, matchAliases: c.MatchAliases}
	switch strings.ToLower(strings.TrimSpace(c.Unknown)) {
	case "", unknownBlock:
	case unknownAllow:
		p.allowUnknown = true
	default:
		return scanPolicy{}, fmt.Errorf("unknown: %q is not a choice; expected block (the default: a finding of unknown severity fails) or allow", c.Unknown)
	}
	for i, ig := range c.Ignore {
		field := fmt.Sprintf("ignore[%d]", i)
		id := strings.TrimSpace(ig.ID)
		if id == "" {
			return scanPolicy{}, fmt.Errorf("%s.id: required (a vulnerability id such as CVE-2024-0001)", field)
		}
		if strings.TrimSpace(ig.Reason) == "" {
			return scanPolicy{}, fmt.Errorf("%s.reason: required: say why %s may be ignored", field, id)
		}
		if strings.TrimSpace(ig.Until) == "" {
			return scanPolicy{}, fmt.Errorf("%s.until: required (YYYY-MM-DD, the last day the entry applies); use a VEX document for a lasting not_affected", field)
		}
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(ig.Until))
		if err != nil {
			return scanPolicy{}, fmt.Errorf("%s.until: %q is not a date; expected YYYY-MM-DD", field, ig.Until)
		}
		p.ignores = append(p.ignores, ignoreRule{id: id, until: day.Format(time.DateOnly), reason: ig.Reason, end: day.AddDate(0, 0, 1)})
	}
	return p, nil
}

// disposition is what the policy makes of one finding.
type disposition int

const (
	counted    disposition = iota // counts toward the severity totals; blocks when above max
	vexed                         // set aside by a not_affected or fixed VEX statement
	ignored                       // set aside by an active ignore entry
	notFixable                    // set aside by fixableOnly
)

// outcome is a disposition with what caused it.
type outcome struct {
	d        disposition
	blocking bool
	ignore   int           // index into ignores when d == ignored
	vex      *vexStatement // when d == vexed
}

// classify judges one finding at time now. VEX comes first (a statement about
// the product), then ignore entries, then fixableOnly, then severity.
func (p scanPolicy) classify(f vuln.Finding, now time.Time, subject digestHexes) outcome {
	if st := p.vexFor(f, subject); st != nil && st.Status.Suppresses() {
		return outcome{d: vexed, vex: st}
	}
	for i, ig := range p.ignores {
		if ig.active(now) && namesMatch([]string{ig.id}, p.findingNames(f)) {
			return outcome{d: ignored, ignore: i}
		}
	}
	if p.fixableOnly && !f.Fixable {
		return outcome{d: notFixable}
	}
	if unknownSeverity(f.Severity) {
		return outcome{d: counted, blocking: !p.allowUnknown}
	}
	return outcome{d: counted, blocking: int(f.Severity) > p.max}
}

// findingNames are the ids an ignore entry or VEX statement may match: the
// finding's own id, and its aliases with matchAliases.
func (p scanPolicy) findingNames(f vuln.Finding) []string {
	if p.matchAliases {
		return f.Names()
	}
	return []string{f.ID}
}

// unknownSeverity reports a severity no scanner assessed or the gate did not
// recognise (ParseSeverity maps unrecognised spellings to Unknown).
func unknownSeverity(s vuln.Severity) bool { return s <= vuln.Unknown || s > vuln.Critical }

// expired lists the ignore entries that no longer apply at now.
func (p scanPolicy) expired(now time.Time) []string {
	var out []string
	for _, ig := range p.ignores {
		if !ig.active(now) {
			out = append(out, fmt.Sprintf("ignore %s expired %s", ig.id, ig.until))
		}
	}
	return out
}

// namesMatch reports whether any of a equals any of b, ignoring case.
func namesMatch(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x != "" && strings.EqualFold(x, y) {
				return true
			}
		}
	}
	return false
}
