package gates

import (
	"fmt"
	"time"

	"github.com/promote-dev/promote/gates/vuln"
)

// A scan is dated by the time its source says it ran, read by gates/vuln:
// Trivy CreatedAt, Grype descriptor.timestamp, ECR imageScanCompletedAt, and
// for a cosign vulnerability attestation the signed metadata.scanFinishedOn
// (or, when the scanner result it carries says it ran earlier, that earlier
// time). Its database by Grype descriptor.db.built (or .db.status.built),
// Trivy's Trivy.Server.VulnerabilityDB.UpdatedAt (client/server mode only)
// and ECR vulnerabilitySourceUpdatedAt. Ages are measured at the judging
// time, Subject.Now.

// defaultMaxReportAge is maxReportAge when the configuration gives none.
const defaultMaxReportAge = 7 * 24 * time.Hour

// clockSkew is how far in the future a scan or database time may lie
// before it is refused as the sign of a wrong clock.
const clockSkew = 5 * time.Minute

// freshness is the validated freshness policy.
type freshness struct {
	maxReport    time.Duration
	maxDB        time.Duration // 0: not checked
	allowUndated bool
}

func newFreshness(maxReport, maxDB string, allowUndated bool) (freshness, error) {
	f := freshness{maxReport: defaultMaxReportAge, allowUndated: allowUndated}
	if maxReport != "" {
		d, err := ParseDuration(maxReport)
		if err != nil {
			return freshness{}, fmt.Errorf("maxReportAge: %w", err)
		}
		f.maxReport = time.Duration(d)
	}
	if maxDB != "" {
		d, err := ParseDuration(maxDB)
		if err != nil {
			return freshness{}, fmt.Errorf("maxDBAge: %w", err)
		}
		f.maxDB = time.Duration(d)
	}
	return f, nil
}

// remedies says, per source, what to do about a stale or undated scan.
var remedies = map[string]struct{ stale, undated string }{
	SourceReport:      {"scan the image again and pass the new report", "pass a report from a current scanner"},
	SourceAttestation: {"scan the image again and attest the new result", "attest a result that records metadata.scanFinishedOn"},
	SourceECR:         {"scan it again (aws ecr start-image-scan) or turn on continuous scanning", "scan it again (aws ecr start-image-scan)"},
}

// label names a judged report in a refusal.
func label(br boundReport) string {
	if br.source == SourceReport {
		return "scan report " + br.name
	}
	return br.name
}

// check returns, one line each, why the report is not fresh enough at now:
// undated (unless allowUndated), dated in the future, older than
// maxReportAge, or, with maxDBAge, a database undated, in the future or
// older than maxDBAge.
func (f freshness) check(br boundReport, now time.Time) []string {
	r, what, fix := br.report, label(br), remedies[br.source]
	var out []string
	switch at := r.ScannedAt; {
	case at.IsZero() && !f.allowUndated:
		out = append(out, fmt.Sprintf("%s does not say when it was scanned (no %s): %s, or set allowUndated: true", what, scanTimeField(r), fix.undated))
	case at.IsZero():
	case at.After(now.Add(clockSkew)):
		out = append(out, fmt.Sprintf("%s says it was scanned at %s, %s after now: check the scanning machine's clock", what, stamp(at), ageText(at.Sub(now))))
	case now.Sub(at) > f.maxReport:
		out = append(out, fmt.Sprintf("%s was scanned %s ago (at %s), more than maxReportAge %s: %s", what, ageText(now.Sub(at)), stamp(at), limitText(f.maxReport), fix.stale))
	}
	if f.maxDB == 0 {
		return out
	}
	switch db := r.DBUpdated; {
	case db.IsZero():
		out = append(out, fmt.Sprintf("%s does not say when its vulnerability database was built, so maxDBAge %s cannot be checked: use a scan that records it (Grype, Trivy in client/server mode, ECR) or remove maxDBAge", what, limitText(f.maxDB)))
	case db.After(now.Add(clockSkew)):
		out = append(out, fmt.Sprintf("%s says its vulnerability database was built at %s, %s after now: check the scanning machine's clock", what, stamp(db), ageText(db.Sub(now))))
	case now.Sub(db) > f.maxDB:
		out = append(out, fmt.Sprintf("%s used a vulnerability database built %s ago (at %s), more than maxDBAge %s: update the scanner's database and %s", what, ageText(now.Sub(db)), stamp(db), limitText(f.maxDB), fix.stale))
	}
	return out
}

// scanTimeField is the report field its scan time is read from.
func scanTimeField(r *vuln.Report) string {
	if r.ScannedAtField != "" {
		return r.ScannedAtField
	}
	return "scan time"
}

// newestPerPlatform keeps, for each platform, the attestations with the
// latest scan time among those covering it: a newer scan replaces an older
// one, whichever found more. Undated attestations cannot be ordered and
// are always kept (freshness refuses them unless allowUndated); so are
// attestations dated alike. It returns the kept ones, in their order, and
// the superseded ones.
func newestPerPlatform(bound []boundReport) (kept, superseded []boundReport) {
	latest := map[int]time.Time{}
	for _, br := range bound {
		at := br.report.ScannedAt
		for _, i := range br.b.covers {
			if at.After(latest[i]) {
				latest[i] = at
			}
		}
	}
	for _, br := range bound {
		newest := br.report.ScannedAt.IsZero()
		for _, i := range br.b.covers {
			newest = newest || br.report.ScannedAt.Equal(latest[i])
		}
		if newest {
			kept = append(kept, br)
		} else {
			superseded = append(superseded, br)
		}
	}
	return kept, superseded
}

// ageText renders an age in minutes below an hour, in hours below two
// days, in days (and hours) above.
func ageText(d time.Duration) string {
	h := int(d / time.Hour)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case h < 48:
		return fmt.Sprintf("%dh", h)
	case h%24 == 0:
		return fmt.Sprintf("%dd", h/24)
	}
	return fmt.Sprintf("%dd%dh", h/24, h%24)
}

// limitText renders a configured age limit: "7d", "36h", or Go's form.
func limitText(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
