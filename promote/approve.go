package promote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/sigverify"
)

// ApprovePasswordEnv is the variable an approver's encrypted key's password
// is read from, as cosign reads it.
const ApprovePasswordEnv = attest.CosignPasswordEnv

// ApproveRequest asks for one approval: `promote approve ENV APP@DIGEST
// --key FILE --reason TEXT [--approver NAME]`.
type ApproveRequest struct {
	Env    string
	Ref    Ref    // APP@DIGEST (or a digest prefix promote can expand)
	Key    string // the approver's private key file, cosign's format
	Reason string
	// Approver names who approves, as the approval states it; default: the
	// CI identity (github:alice) or else the OS user, else the key's ID.
	Approver string
}

// ApproveResult says what approval was attached, and where.
type ApproveResult struct {
	App           string    `json:"app"`
	Env           string    `json:"env"`
	Digest        string    `json:"digest"`
	Repository    string    `json:"repository"` // the hop's source repository it is attached in
	Approver      string    `json:"approver"`
	KeyID         string    `json:"keyId"`
	Reason        string    `json:"reason"`
	Time          time.Time `json:"time"`
	PredicateType string    `json:"predicateType"`
	Attestation   string    `json:"attestation"` // the referrer manifest's digest
}

// Approve signs an approval of the digest for env with the approver's key
// (its password, if any, in COSIGN_PASSWORD) and attaches it to the digest
// in the repository env is promoted from, where the approvals phase of a
// promotion into env reads it. Refused (errs.ErrUsage) before anything is
// written: an environment without approvals, a reference without a
// digest, no reason, a digest not in that repository, a key whose approval
// would not count (not among env's approvals keys, or the key env's
// promotions are attested with).
func (e *Engine) Approve(ctx context.Context, req ApproveRequest) (*ApproveResult, error) {
	env, err := e.cfg.Env(req.Env)
	if err != nil {
		return nil, err
	}
	switch {
	case env.Approvals == nil:
		return nil, errs.Usagef("environment %s has no approvals block in %s: nothing there counts approvals", env.Name, e.cfg.File)
	case req.Ref.Digest == "":
		return nil, errs.Usagef("%s: an approval is of one digest: pass %s@DIGEST (promote status %s shows what would enter %s next)",
			req.Ref, req.Ref.App, req.Ref.App, env.Name)
	case strings.TrimSpace(req.Reason) == "":
		return nil, errs.Usagef("approve: --reason TEXT is required: say why %s may enter %s", req.Ref, env.Name)
	case req.Key == "":
		return nil, errs.Usagef("approve: --key FILE is required: the approver's private key (cosign's format)")
	}
	from, repo, err := e.repository(env.From, req.Ref.App)
	if err != nil {
		return nil, err
	}
	digest := req.Ref.Digest
	if p, ok := digestPrefix(digest); ok {
		if digest, err = e.expandSource(ctx, from, repo, req.Ref.App, p); err != nil {
			return nil, err
		}
	}
	desc, err := e.rd.Head(ctx, repo.Digest(digest))
	if err != nil {
		return nil, fmt.Errorf("looking up %s in %s: %w", digest, repo.Name(), err)
	}
	if desc == nil {
		return nil, errs.Usagef("%s@%s is not in %s, the repository %s takes it from: approve a digest that is there",
			req.Ref.App, digest, repo.Name(), env.Name)
	}
	s, err := attest.LoadSigner(req.Key, ApprovePasswordEnv)
	if err != nil {
		return nil, err
	}
	if err := e.countable(env, s); err != nil {
		return nil, err
	}
	approver := req.Approver
	if approver == "" {
		approver = defaultApprover(e.actor, s.Key().ID)
	}
	st, err := attest.BuildApproval(attest.Approval{Environment: env.Name, App: req.Ref.App, Approver: approver, Reason: req.Reason,
		Repository: repo.Name(), Digest: digest, Time: e.now()})
	if err != nil {
		return nil, errs.Usagef("%v", err)
	}
	ref, err := s.AttestApproval(ctx, registryIO{e.rd, e.wr}, repo, st)
	if err != nil {
		return nil, err
	}
	e.log.Info("approval attached", "env", env.Name, "digest", digest, "attestation", ref.String())
	return &ApproveResult{App: req.Ref.App, Env: env.Name, Digest: digest, Repository: repo.Name(), Approver: approver,
		KeyID: s.Key().ID, Reason: req.Reason, Time: st.Predicate.Time, PredicateType: ApprovalPredicateType, Attestation: ref.String()}, nil
}

// countable refuses a key whose approvals for env would not count: one
// env's approvals do not list (a keyless-only list lists no key), or the
// key env's promotions are attested with.
func (e *Engine) countable(env *config.Environment, s *attest.Signer) error {
	id := s.Key().ID
	var listed []string
	for _, k := range env.Approvals.Verifier.Keys() {
		listed = append(listed, k.String())
	}
	if !slices.ContainsFunc(env.Approvals.Verifier.Keys(), func(k *sigverify.Key) bool { return k.ID == id }) {
		have := "none (only keyless identities, which promote approve cannot sign as: use cosign attest)"
		if len(listed) > 0 {
			have = strings.Join(listed, ", ")
		}
		return errs.Usagef("the key %s is not among %s's approvals keys, so its approval would not count; they are: %s",
			s, env.Name, have)
	}
	if env.Attest != nil {
		if p, err := e.signer(env); err == nil && p.Key().ID == id {
			return errs.Usagef("the key %s signs %s's promotion attestations: the promoter never counts as an approver; approve with a key of your own",
				s, env.Name)
		}
	}
	return nil
}

// defaultApprover is who an approval names when --approver is not given:
// the CI identity, else the OS user, else the key.
func defaultApprover(a ledger.Actor, keyID string) string {
	switch {
	case a.Identity != "":
		return a.Identity
	case a.User != "":
		return a.User
	}
	return "key " + keyID
}
