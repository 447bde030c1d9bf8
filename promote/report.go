package promote

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// ReportMediaType versions the report's JSON schema (docs/report.md).
const ReportMediaType = "application/vnd.promote.report.v1+json"

// The findings of a report, as --fail-on names them.
const (
	FindingStale      = "stale"      // a newer base under the same tag
	FindingOld        = "old"        // the image, or its base, past the environment's max age
	FindingVulnerable = "vulnerable" // findings above the threshold that appeared after promotion
	FindingRevoked    = "revoked"    // a revoked digest (or content within it) runs
	// CountUnjudged counts the entries with something that could not be
	// read or judged (Error or Unknown): --fail-on fails closed on them.
	CountUnjudged = "unjudged"
)

// ReportRequest asks for a report of Apps (every app the ledger knows when
// empty) in Env (every environment when empty), with pipeline figures over
// [Since, now).
type ReportRequest struct {
	Apps  []string
	Env   string
	Since time.Time
}

// Report is what runs where, how old, on which base, and what needs a
// rebuild or a rollback; and the pipeline's figures from the ledger.
type Report struct {
	MediaType    string         `json:"mediaType"`
	Generated    time.Time      `json:"generated"`
	Since        time.Time      `json:"since"`
	Environments []ReportEnv    `json:"environments"`
	Apps         []AppReport    `json:"apps"`
	Counts       map[string]int `json:"counts"` // findings by kind
	// Rebuild lists the apps whose image is stale, old, vulnerable or
	// revoked somewhere: what a CI trigger rebuilds.
	Rebuild []string `json:"rebuild"`
	// Pipeline is the pipeline's figures over [Since, Generated) from the
	// ledger, for the apps reported (docs/report-pipeline.md).
	Pipeline PipelineFigures `json:"pipeline"`
}

// ReportEnv is one environment of the pipeline, with its patching policy.
type ReportEnv struct {
	Name        string  `json:"name"`
	From        string  `json:"from,omitempty"`
	Repository  string  `json:"repository"`
	MaxImageAge float64 `json:"maxImageAgeDays"`
	MaxBaseAge  float64 `json:"maxBaseAgeDays"`
}

// AppReport is one app, environment by environment in pipeline order (the
// environments promote promotes into).
type AppReport struct {
	App          string         `json:"app"`
	Environments []RunningImage `json:"environments"`
}

// RunningImage is what one environment runs of an app, and what is found
// about it. Status is green, amber (stale or old base) or red (old image,
// vulnerable, revoked, or something that could not be read).
type RunningImage struct {
	Env        string     `json:"env"`
	Digest     string     `json:"digest,omitempty"` // "" when the environment holds nothing
	Reference  string     `json:"reference,omitempty"`
	Tags       []string   `json:"tags,omitempty"`
	Since      *time.Time `json:"since,omitempty"` // when it was promoted (or rolled back) there
	By         string     `json:"by,omitempty"`
	Record     string     `json:"record,omitempty"`
	Created    *time.Time `json:"created,omitempty"` // the image's creation time (the oldest platform's)
	AgeDays    *float64   `json:"ageDays,omitempty"`
	Bases      []BaseRun  `json:"bases,omitempty"`
	Revocation string     `json:"revocation,omitempty"` // the record of the revocation covering it
	// Vulnerability is the scan gates' judgement now: "clean now: …",
	// "vulnerable", or "not judged again: …" (no current scan to read).
	Vulnerability string    `json:"vulnerability,omitempty"`
	Findings      []Finding `json:"findings"`
	Status        string    `json:"status"`
	Error         string    `json:"error,omitempty"` // what could not be read, so not judged
	// Timeline is the environment's promotions and rollbacks of the app
	// since the report's Since, newest first (at most maxTimeline).
	Timeline []TimelineEvent `json:"timeline"`
	// Unknown says what could not be judged: a base that could not be
	// read or proven, a scan missing or too old (the entry is amber).
	Unknown []string `json:"unknown,omitempty"`
}

// BaseRun is the base one platform was proven built on at promotion (the
// base gate's evidence), and what its repository holds under that tag now.
type BaseRun struct {
	Platform string     `json:"platform"`
	Base     string     `json:"base"`   // repo:tag where a tag names it, else repo@digest
	Digest   string     `json:"digest"` // the platform manifest of the base
	Created  *time.Time `json:"created,omitempty"`
	AgeDays  *float64   `json:"ageDays,omitempty"`
	// Newer is the digest the base's tag names now, when it is not the
	// one the image was built on; DaysBehind is its creation time minus
	// the built-on base's.
	Newer        string     `json:"newer,omitempty"`
	NewerTag     string     `json:"newerTag,omitempty"` // the tag that names it: the same, or a newer one of its version line
	NewerCreated *time.Time `json:"newerCreated,omitempty"`
	DaysBehind   *float64   `json:"daysBehind,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// Finding is one thing found about a running image, with its evidence.
type Finding struct {
	Kind string `json:"kind"`
	// Of is "base" for a finding about the base (an old base), else ""
	// (the image).
	Of       string         `json:"of,omitempty"`
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence,omitempty"`
}

// Report reads, for every app and environment asked for, what runs there
// (the ledger) and what it is (the registry): its age, its base and
// whether a newer base exists, and revocations covering it. What cannot be
// read is said on that entry (red), not fatal to the report.
func (e *Engine) Report(ctx context.Context, req ReportRequest) (*Report, error) {
	now := e.now().UTC()
	rep := &Report{MediaType: ReportMediaType, Generated: now, Since: req.Since.UTC(), Counts: map[string]int{}, Rebuild: []string{}}
	envs, err := e.reportEnvs(req.Env)
	if err != nil {
		return nil, err
	}
	for _, env := range envs {
		rep.Environments = append(rep.Environments, ReportEnv{Name: env.Name, From: env.From, Repository: env.Repository,
			MaxImageAge: days(env.MaxImageAge), MaxBaseAge: days(env.MaxBaseAge)})
	}
	recs, err := e.led.Records(ctx, ledger.Query{})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	apps, err := reportApps(recs, req.Apps)
	if err != nil {
		return nil, err
	}
	var mine []ledger.Record
	for _, r := range recs {
		if slices.Contains(apps, r.App) || r.App == ledger.AllApps {
			mine = append(mine, r)
		}
	}
	rep.Pipeline = pipelineFigures(e.cfg, mine, rep.Since, now)
	if req.Env != "" { // --env: that environment's figures alone
		rep.Pipeline.Environments = slices.DeleteFunc(rep.Pipeline.Environments, func(f PipelineEnvFigures) bool { return f.Env != req.Env })
		rep.Pipeline.LeadTimes = slices.DeleteFunc(rep.Pipeline.LeadTimes, func(f PipelineLeadTime) bool { return f.Env != req.Env })
	}
	for _, app := range apps {
		ar := AppReport{App: app}
		revs, err := e.reader().revocations(ctx, app)
		if err != nil {
			return nil, err
		}
		set := revokedSet(revs)
		rebuild := false
		for _, env := range envs {
			if env.From == "" {
				continue
			}
			ri, err := e.runningImage(ctx, env, app, set, now)
			if err != nil {
				return nil, err
			}
			ri.Timeline = timeline(mine, app, env.Name, rep.Since)
			counted := map[string]bool{} // each kind once an entry: an image old and on an old base is one old entry
			for _, f := range ri.Findings {
				if !counted[f.Kind] {
					counted[f.Kind] = true
					rep.Counts[f.Kind]++
				}
				rebuild = true
			}
			if ri.Error != "" || len(ri.Unknown) > 0 {
				rep.Counts[CountUnjudged]++
			}
			ar.Environments = append(ar.Environments, ri)
		}
		if rebuild {
			rep.Rebuild = append(rep.Rebuild, app)
		}
		rep.Apps = append(rep.Apps, ar)
	}
	return rep, nil
}

// reportEnvs is the pipeline's environments, or the one named.
func (e *Engine) reportEnvs(name string) ([]*config.Environment, error) {
	if name == "" {
		return e.cfg.Environments, nil
	}
	env, err := e.cfg.Env(name)
	if err != nil {
		return nil, err
	}
	return []*config.Environment{env}, nil
}

// reportApps is the apps asked for, checked, or every app recs (the
// ledger) has a record of (the control chains' "*" is none), sorted.
func reportApps(recs []ledger.Record, asked []string) ([]string, error) {
	if len(asked) > 0 {
		for _, a := range asked {
			if err := checkApp(a); err != nil {
				return nil, err
			}
		}
		return asked, nil
	}
	var apps []string
	for _, r := range recs {
		if r.App != ledger.AllApps && !slices.Contains(apps, r.App) {
			apps = append(apps, r.App)
		}
	}
	slices.Sort(apps)
	if len(apps) == 0 {
		return nil, fmt.Errorf("%w: the ledger records no app yet (no promotion, rollback or refusal), so there is nothing to report on; promote one first, or name apps", errs.ErrNotFound)
	}
	return apps, nil
}

// days is d in days, for the report's figures.
func days(d time.Duration) float64 { return float64(d) / float64(24*time.Hour) }
