package promote

import "context"

// judge is the gates' phase: every gate of the environment on the subject,
// in parallel (gaterun.go). A gate that says no is a refusal; a gate that
// cannot judge fails the run closed, unrecorded, so it can be retried.
func (r *run) judge(ctx context.Context) error {
	var err error
	r.res.Judged = true
	r.res.Gates, err = runGates(ctx, r.env, r.subj)
	if isGateRejection(err) {
		return refuse(err)
	}
	return err
}
