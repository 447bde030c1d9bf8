package promote

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/ledger"
)

// Release-control state comes from the ledger's control chains (ledger
// AllApps and AllEnvs): each record read is checked against the log, as
// current's are, so a freeze or revocation cannot be hidden by editing
// the store where the ledger has a key.

// freezes returns the freezes in force over env: its own (freeze ENV) and
// the one over every environment (freeze --all), each the head of its
// chain when that head is a freeze.
func (r *Reader) freezes(ctx context.Context, env string) ([]ledger.Record, error) {
	chains := []string{env, ledger.AllEnvs}
	heads := make([]*ledger.Record, len(chains))
	g, gctx := errgroup.WithContext(ctx)
	for i, chain := range chains { // on S3, reads of their own: asked together
		g.Go(func() error {
			var err error
			heads[i], err = r.controlHead(gctx, ledger.AllApps, chain)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []ledger.Record
	for _, rec := range heads {
		if rec != nil && rec.Kind == ledger.KindFreeze {
			out = append(out, *rec)
		}
	}
	return out, nil
}

// controlHead returns the latest record of a control chain, checked, or
// nil when the chain is empty.
func (r *Reader) controlHead(ctx context.Context, app, env string) (*ledger.Record, error) {
	recs, err := r.led.Records(ctx, ledger.Query{App: app, Env: env, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if err := r.authentic(ctx, recs[0]); err != nil {
		return nil, err
	}
	return &recs[0], nil
}

// revocations returns the revocations in force for app, by digest: for
// each digest, its latest revocation or unrevocation, kept when it is a
// revocation. The whole chain is read and checked, not a filter on the
// digest, so a revocation edited to name another digest is caught rather
// than skipped.
func (r *Reader) revocations(ctx context.Context, app string) (map[string]ledger.Record, error) {
	recs, err := r.led.Records(ctx, ledger.Query{App: app, Env: ledger.AllEnvs})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	latest := map[string]ledger.Record{}
	for _, rec := range recs { // newest first
		if err := r.authentic(ctx, rec); err != nil {
			return nil, err
		}
		if _, seen := latest[rec.Digest]; !seen {
			latest[rec.Digest] = rec
		}
	}
	for d, rec := range latest {
		if rec.Kind != ledger.KindRevocation {
			delete(latest, d)
		}
	}
	return latest, nil
}

// describeControl says who recorded a freeze or revocation, when and why,
// for a refusal or a status line.
func describeControl(rec ledger.Record) string {
	by := actorName(rec.Actor)
	s := fmt.Sprintf("since %s", rec.Time.UTC().Format("2006-01-02T15:04:05Z"))
	if by != "" {
		s += " by " + by
	}
	s += " (record " + rec.ID + ")"
	if rec.Reason != "" {
		s += ": " + rec.Reason
	}
	return s
}
