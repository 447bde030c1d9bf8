package promote

import "context"

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

// evidenceOf is the run's evidence document builder (evidence.go).
func (r *run) evidenceOf(ctx context.Context) evidenceFunc {
	return r.e.evidenceOf(ctx, evidenceFacts{
		env: r.env, app: r.res.App, repository: r.res.Repository, source: r.res.Source,
		srcRepo: r.src.repo.Name(), tags: r.tags, subj: r.subj, policies: r.res.Policies,
	})
}
