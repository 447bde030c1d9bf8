package promote

import (
	"context"
	"errors"
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

// reportEntryTimeout bounds the registry reads of one report entry: a
// registry that never answers makes that entry unreadable, not the report
// hang.
const reportEntryTimeout = 2 * time.Minute

// runningImage reports what env runs of app: from the ledger, what and
// since when, and the promotion records that judged it; from the registry,
// its age, its bases now, its scans now and revoked content within it. A
// ledger error is returned (the report cannot stand on records it cannot
// read); a registry error or timeout is the entry's Error.
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
	proms, err := e.led.Records(ctx, ledger.Query{App: app, Kinds: []ledger.Kind{ledger.KindPromotion}, Digest: cur.Digest})
	if err != nil {
		return ri, fmt.Errorf("reading ledger: %w", err)
	}
	for _, p := range proms { // their gate evidence is judged on: each checked against the log, as current's is
		if err := e.reader().authentic(ctx, p); err != nil {
			return ri, err
		}
	}
	defer func() { ri.Status = statusOf(ri) }()
	rctx, cancel := context.WithTimeout(ctx, reportEntryTimeout)
	defer cancel()
	unreadable := func(err error) (RunningImage, error) {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("the registry did not answer within %s: %w", reportEntryTimeout, err)
		}
		ri.Error = err.Error()
		return ri, ctx.Err()
	}
	revokedFinding := func(rec ledger.Record) {
		ri.Revocation = rec.ID
		ri.Findings = append(ri.Findings, Finding{Kind: FindingRevoked,
			Reason:   fmt.Sprintf("%s runs %s, covered by the revocation of %s@%s %s: roll back", env.Name, cur.Digest, app, rec.Digest, describeControl(rec)),
			Evidence: map[string]any{"revocation": rec.ID, "digest": rec.Digest}})
	}
	if rec, ok := revoked[cur.Digest]; ok { // from the ledger alone: said even when the registry is down
		revokedFinding(rec)
	}
	m, err := e.rd.Get(rctx, repo.Digest(cur.Digest))
	if err != nil {
		return unreadable(fmt.Errorf("reading %s: %w", ri.Reference, err))
	}
	root, subj, err := e.inspect(rctx, &source{env: env, repo: repo, manifest: m, given: app + "@" + cur.Digest}, nil)
	if err != nil {
		return unreadable(fmt.Errorf("reading %s: %w", ri.Reference, err))
	}
	if rec, _ := coveredIn(root, revoked); rec != nil && ri.Revocation == "" { // content within it, from the tree read once
		revokedFinding(*rec)
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
	e.reportBases(rctx, env, &ri, subj, proms, now)
	e.reportVulnerability(rctx, env, &ri, subj, promotionIn(proms, env.Name))
	if ctx.Err() == nil && rctx.Err() != nil {
		return unreadable(fmt.Errorf("the registry did not answer within %s", reportEntryTimeout))
	}
	return ri, nil
}

// promotionIn is the latest of proms (newest first) into env, or nil.
func promotionIn(proms []ledger.Record, env string) *ledger.Record {
	for i := range proms {
		if proms[i].Env == env {
			return &proms[i]
		}
	}
	return nil
}

// statusOf is an entry's colour: red for what must be acted on now (a
// revoked, old or vulnerable image, or one that could not be read), amber
// for what needs a look or a rebuild soon (a stale or old base, a base or
// scan that could not be judged), else green.
func statusOf(ri RunningImage) string {
	if ri.Error != "" {
		return StatusRed
	}
	st := StatusGreen
	if len(ri.Unknown) > 0 {
		st = StatusAmber
	}
	for _, f := range ri.Findings {
		switch {
		case f.Kind == FindingRevoked, f.Kind == FindingVulnerable, f.Kind == FindingOld && f.Of != "base":
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
