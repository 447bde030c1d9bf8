package promote

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// revoked is the release-policy phase of revocations, after inspect: a
// digest revoked for the app (promote revoke APP@DIGEST) is refused by
// every promotion, whatever its gates say, and so is any image the copy
// would write that is revoked: an index wrapping a revoked image is no
// way around it. Refused before anything is judged or copied, recorded.
func (r *run) revoked(ctx context.Context) error {
	revs, err := r.e.reader().revocations(ctx, r.res.App)
	if err != nil || len(revs) == 0 {
		return err
	}
	for _, n := range r.root.order() {
		if n.attached {
			continue // signatures and attestations are not what runs
		}
		if rec, ok := revs[n.m.Digest.String()]; ok {
			return r.policyRefuse(PolicyRevocation, revokedReason(r.res.App, r.res.Digest, n.m.Digest.String(), rec),
				map[string]any{"revocation": rec.ID, "digest": rec.Digest})
		}
	}
	return nil
}

// revokedReason says that digest (or content within it) is revoked, by
// whom and why, and how to lift it.
func revokedReason(app, digest, revoked string, rec ledger.Record) string {
	what := fmt.Sprintf("%s@%s is revoked", app, digest)
	if revoked != digest {
		what = fmt.Sprintf("%s@%s holds %s, which is revoked", app, digest, revoked)
	}
	return fmt.Sprintf("%s %s; no environment may take it again: promote unrevoke %s@%s --reason TEXT lifts the revocation",
		what, describeControl(rec), app, revoked)
}

// rollbackRevoked refuses a rollback to a revoked digest, or to an index
// holding a revoked image (its entries; a rollback reads no deeper), and
// records the refusal as a rejected attempt under the chain's lock, which
// a rollback that is not a dry run holds. It returns the refusal, or nil.
func (e *Engine) rollbackRevoked(ctx context.Context, rc *recorder, req RollbackRequest, rec *ledger.Record, m *registry.Manifest) error {
	revs, err := e.reader().revocations(ctx, req.App)
	if err != nil || len(revs) == 0 {
		return err
	}
	digests := []string{m.Digest.String()}
	if p, err := parseManifest(m); err == nil {
		for _, d := range p.Manifests {
			digests = append(digests, d.Digest.String())
		}
	}
	for _, d := range digests {
		rev, ok := revs[d]
		if !ok {
			continue
		}
		reason := revokedReason(req.App, rec.Digest, d, rev)
		no := &errs.PolicyRefusal{Policy: PolicyRevocation, Reason: reason}
		if req.DryRun {
			return no
		}
		rec.Kind, rec.Rejection, rec.Targets = ledger.KindRejected, no.Error(), nil
		rec.Policies = []verdict.Result{{Name: PolicyRevocation, Verdict: verdict.Fail, Reason: reason,
			Evidence: map[string]any{"revocation": rev.ID, "digest": rev.Digest}}}
		return rc.refused(ctx, rec, no)
	}
	return nil
}
