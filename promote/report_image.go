package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// The statuses of a report entry.
const (
	StatusGreen = "green"
	StatusAmber = "amber"
	StatusRed   = "red"
	StatusNone  = "none" // the environment holds nothing of the app
)

// runningImage reports what env runs of app: from the ledger, what and
// since when; from the registry, its age, its bases now, and revoked
// content within it. A ledger error is returned (the report cannot stand
// on records it cannot read); a registry error is the entry's Error.
func (e *Engine) runningImage(ctx context.Context, env *config.Environment, app string, revoked map[string]ledger.Record, now time.Time) (ri RunningImage, err error) {
	ri = RunningImage{Env: env.Name, Findings: []Finding{}, Status: StatusNone}
	cur, err := e.reader().currentUntil(ctx, app, env.Name, time.Time{})
	if err != nil || cur == nil {
		return ri, err
	}
	since := cur.Time.UTC()
	ri.Digest, ri.Tags, ri.Since, ri.By, ri.Record = cur.Digest, cur.Tags, &since, actorName(cur.Actor), cur.ID
	_, repo, err := e.repository(env.Name, app)
	if err != nil {
		return ri, err
	}
	ri.Reference = repo.Name() + "@" + cur.Digest
	defer func() { ri.Status = statusOf(ri) }()
	if rec, err := e.coveredBy(ctx, env.Name, app, cur.Digest, revoked); err != nil {
		ri.Error = err.Error()
		return ri, nil
	} else if rec != nil {
		ri.Revocation = rec.ID
		ri.Findings = append(ri.Findings, Finding{Kind: FindingRevoked,
			Reason:   fmt.Sprintf("%s runs %s, covered by the revocation of %s@%s %s: roll back", env.Name, cur.Digest, app, rec.Digest, describeControl(*rec)),
			Evidence: map[string]any{"revocation": rec.ID, "digest": rec.Digest}})
	}
	m, err := e.rd.Get(ctx, repo.Digest(cur.Digest))
	if err != nil {
		ri.Error = fmt.Sprintf("reading %s: %v", ri.Reference, err)
		return ri, nil
	}
	_, subj, err := e.inspect(ctx, &source{env: env, repo: repo, manifest: m, given: app + "@" + cur.Digest})
	if err != nil {
		ri.Error = fmt.Sprintf("reading %s: %v", ri.Reference, err)
		return ri, nil
	}
	var oldest time.Time
	for _, img := range subj.Images {
		if img.Config != nil && !img.Config.Created.IsZero() && (oldest.IsZero() || img.Config.Created.Before(oldest)) {
			oldest = img.Config.Created.Time
		}
	}
	if !oldest.IsZero() {
		created, age := oldest.UTC(), days(now.Sub(oldest))
		ri.Created, ri.AgeDays = &created, &age
		if now.Sub(oldest) > env.MaxImageAge {
			ri.Findings = append(ri.Findings, Finding{Kind: FindingOld,
				Reason:   fmt.Sprintf("the image was built %s, %.0f days ago: older than %s's maxImageAge of %.0f days; rebuild it", created.Format(time.DateOnly), age, env.Name, days(env.MaxImageAge)),
				Evidence: map[string]any{"created": created, "ageDays": age, "maxImageAgeDays": days(env.MaxImageAge)}})
		}
	}
	if err := e.reportBases(ctx, env, app, &ri, subj, now); err != nil {
		return ri, err
	}
	if err := e.reportVulnerability(ctx, env, app, &ri, subj); err != nil {
		return ri, err
	}
	return ri, nil
}

// statusOf is an entry's colour: red for what must be acted on now (a
// revoked, old or vulnerable image, or one that could not be read), amber
// for what needs a rebuild soon (a stale or old base), else green.
func statusOf(ri RunningImage) string {
	if ri.Error != "" {
		return StatusRed
	}
	st := StatusGreen
	for _, f := range ri.Findings {
		switch {
		case f.Kind == FindingRevoked, f.Kind == FindingVulnerable, f.Kind == FindingOld && f.Evidence["base"] == nil:
			return StatusRed
		default:
			st = StatusAmber
		}
	}
	return st
}

// actorName is who wrote a record, as a report names them.
func actorName(a ledger.Actor) string {
	switch {
	case a.Identity != "":
		return a.Identity
	case a.User != "" && a.Host != "":
		return a.User + "@" + a.Host
	}
	return a.User
}
