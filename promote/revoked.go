package promote

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// revoked is the release-policy phase of revocations, after inspect (and
// again under the lock, recheck): a digest revoked for the app (promote
// revoke APP@DIGEST) is refused by every promotion, whatever its gates
// say, and so is any content the copy would write that a revocation
// covers (revokedcontent.go): an index wrapping a revoked image, or the
// revoked image re-wrapped with its config, is no way around it. Refused
// before anything is judged or copied, recorded.
func (r *run) revoked(ctx context.Context) error {
	revs, err := r.e.reader().revocations(ctx, r.res.App)
	if err != nil {
		return err
	}
	return r.refuseRevoked(revs)
}

// refuseRevoked refuses the run when revs covers its content.
func (r *run) refuseRevoked(revs map[string]ledger.Record) error {
	if len(revs) == 0 {
		return nil
	}
	if rec, d := coveredIn(r.root, revokedSet(revs)); rec != nil {
		return r.policyRefuse(PolicyRevocation, revokedReason(r.res.App, r.res.Digest, d, *rec),
			map[string]any{"revocation": rec.ID, "digest": rec.Digest, "covered": d})
	}
	return nil
}

// coveredIn finds, in the content of the manifest tree under root (not its
// attachments: signatures and attestations are not what runs), a manifest
// or image config a revocation of set covers; nil when none.
func coveredIn(root *node, set map[string]ledger.Record) (*ledger.Record, string) {
	for _, n := range root.order() {
		if n.attached {
			continue
		}
		digests := []string{n.m.Digest.String()}
		if p, err := parseManifest(n.m); err == nil && p.Config != nil && len(p.Manifests) == 0 {
			digests = append(digests, p.Config.Digest.String())
		}
		for _, d := range digests {
			if rec, ok := set[d]; ok {
				return &rec, d
			}
		}
	}
	return nil, ""
}

// revokedReason says that digest (or content within it) is revoked, by
// whom and why, and how to lift it.
func revokedReason(app, digest, covered string, rec ledger.Record) string {
	var what string
	switch {
	case covered == digest && rec.Digest == digest:
		what = fmt.Sprintf("%s@%s is revoked", app, digest)
	case covered == rec.Digest:
		what = fmt.Sprintf("%s@%s holds %s, which is revoked", app, digest, covered)
	default:
		what = fmt.Sprintf("%s@%s holds %s, which the revocation of %s@%s covers", app, digest, covered, app, rec.Digest)
	}
	return fmt.Sprintf("%s %s; no environment may take it again: promote unrevoke %s@%s --reason TEXT lifts the revocation",
		what, describeControl(rec), app, rec.Digest)
}

// rollbackRevoked refuses a rollback to content a revocation covers (the
// whole tree of the digest it returns to, read from the environment's
// repository), and records the refusal as a rejected attempt under the
// chain's lock, which a rollback that is not a dry run holds. It returns
// the refusal, or nil; a tree it cannot read is an error (fail closed).
func (e *Engine) rollbackRevoked(ctx context.Context, rc *recorder, req RollbackRequest, rec *ledger.Record, repo name.Repository, m *registry.Manifest) error {
	revs, err := e.reader().revocations(ctx, req.App)
	if err != nil || len(revs) == 0 {
		return err
	}
	digests, err := e.contentDigests(ctx, repo, m)
	if err != nil {
		return fmt.Errorf("checking the rollback target against the revocations: %w", err)
	}
	set := revokedSet(revs)
	for _, d := range digests {
		rev, ok := set[d]
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
			Evidence: map[string]any{"revocation": rev.ID, "digest": rev.Digest, "covered": d}}}
		return rc.refused(ctx, rec, no)
	}
	return nil
}
