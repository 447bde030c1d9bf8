package promote

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
)

// approvals is the release-policy phase of an environment's approvals
// (four eyes): after inspect, before the gates, the approval attestations
// attached to the digest in the source repository are verified and counted
// (approvals_count.go). Too few is a refusal (exit 3, recorded) that says
// who approved, how many are missing and how to approve. A break-glass pass
// requires at least its own number of approvals (glassApprovals); with no
// approvals block nothing can give them, and the run is refused.
func (r *run) approvals(ctx context.Context) error {
	a := r.env.Approvals
	required := r.glassApprovals
	if a != nil {
		required = max(required, a.Required)
	}
	if required == 0 {
		return nil
	}
	if a == nil {
		return r.policyRefuse(PolicyApprovals, fmt.Sprintf("%s: the break-glass pass requires %d approvals, but %s has no approvals block, "+
			"so nothing can approve: add approvals (required, keys or identities) to %s in %s", r.env.Name, required, r.env.Name, r.env.Name, r.e.cfg.File),
			map[string]any{"required": required, "approved": []Approval{}, "missing": required})
	}
	t, err := r.e.tallyApprovals(ctx, r.env, r.req.Ref.App, r.subj, required)
	if err != nil {
		return err
	}
	ev := t.evidence()
	if t.Missing > 0 {
		ref := r.req.Ref.App + "@" + r.res.Digest
		return r.holdBack(ctx, func() error {
			return r.policyRefuse(PolicyApprovals, fmt.Sprintf("%s: %d of %d required approvals of %s: %s; %d missing%s; "+
				"an approver listed in %s's approvals runs: promote approve %s %s --key FILE --reason TEXT",
				r.env.Name, len(t.Approved), t.Required, ref, t.who(), t.Missing, t.notCounted(), r.env.Name, r.env.Name, ref), ev)
		})
	}
	r.policyPass(PolicyApprovals, fmt.Sprintf("%d of %d required approvals: %s", len(t.Approved), t.Required, t.who()), ev)
	return nil
}

// tallyApprovals reads the approval attestations attached to subj's digest
// and counts them for env against required. The promoter's own identities
// (the key of env's promotion attestations, the AWS caller of env) never
// count; a promotion attestation key that cannot be read is an error, for
// without it an approval by that key could not be told apart.
func (e *Engine) tallyApprovals(ctx context.Context, env *config.Environment, app string, subj *gates.Subject, required int) (ApprovalTally, error) {
	ru := approvalRules{env: env.Name, app: app, now: e.now(), expires: env.Approvals.Expires, identities: env.Approvals.Signers.Identities}
	if env.Attest != nil {
		s, err := e.signer(env)
		if err != nil {
			return ApprovalTally{}, fmt.Errorf("approvals: the promoter's own key must be known to exclude it: %w", err)
		}
		ru.promoterKey = s.Key().ID
	}
	ru.promoterAWS, _ = e.ecr.identity(ctx, env.Name)
	sts, rejected, err := env.Approvals.Verifier.Attestations(ctx, subj, ApprovalPredicateType)
	if err != nil {
		return ApprovalTally{}, fmt.Errorf("approvals: reading the approvals of %s in %s: %w", subj.Digest, subj.Repository, err)
	}
	return ru.tally(sts, rejected, required), nil
}
