package promote

import (
	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
)

// The release policies, by the name their verdicts carry in a result, a
// record and the promotion attestation, in the order a promotion checks
// them: before anything is judged or copied, after the path.
const (
	PolicyRevocation = "revocation"
	PolicyFreeze     = "freeze"
	PolicyWindow     = "window"
	PolicySoak       = "soak"
	PolicyApprovals  = "approvals"
)

// policyPass notes that a release policy the environment has let the run
// through, and why: it is recorded with the promotion and shown.
func (r *run) policyPass(policy, reason string, evidence map[string]any) {
	r.res.Policies = append(r.res.Policies, verdict.Result{Name: policy, Verdict: verdict.Pass, Reason: reason, Evidence: evidence})
}

// policyRefuse notes that a release policy refused the run and returns the
// refusal (exit 3), which settle records with the verdicts so far.
func (r *run) policyRefuse(policy, reason string, evidence map[string]any) error {
	r.res.Policies = append(r.res.Policies, verdict.Result{Name: policy, Verdict: verdict.Fail, Reason: reason, Evidence: evidence})
	return refuse(&errs.PolicyRefusal{Policy: policy, Reason: reason})
}
