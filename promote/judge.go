package promote

import (
	"context"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/ledger"
)

// judge is the gates' phase: every gate of the environment on the subject,
// in parallel, then the gates that judge the evidence document
// (gaterun.go). A gate that says no is a refusal; a gate that cannot judge
// fails the run closed, unrecorded, so it can be retried. The document is
// kept for the record and the attestation.
func (r *run) judge(ctx context.Context) error {
	var doc evidenceFunc
	if evidenceWanted(r.env, !r.req.DryRun) {
		doc = r.evidenceOf(ctx)
	}
	var err error
	r.res.Judged = true
	r.res.Gates, r.evidence, err = runGates(ctx, r.env, r.subj, doc)
	if isGateRejection(err) {
		return refuse(err)
	}
	return err
}

// evidenceOf starts reading the digest's history beside the gates and
// returns what builds the run's evidence document once they have judged.
func (r *run) evidenceOf(ctx context.Context) evidenceFunc {
	type read struct {
		recs []ledger.Record
		err  error
	}
	hist := make(chan read, 1)
	go func() {
		recs, err := r.e.reader().digestHistory(ctx, r.res.App, r.res.Digest)
		hist <- read{recs, err}
	}()
	return func(ctx context.Context, judged []verdict.Result) ([]byte, error) {
		var h read
		select {
		case h = <-hist:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if h.err != nil {
			return nil, h.err
		}
		f := evidenceFacts{
			env: r.env, app: r.res.App, repository: r.res.Repository, source: r.res.Source,
			srcRepo: r.src.repo.Name(), tags: r.tags, subj: r.subj, policies: r.res.Policies, history: h.recs,
		}
		return f.document(judged)
	}
}
