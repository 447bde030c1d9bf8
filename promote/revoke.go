package promote

import (
	"context"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// Revoke records a revocation of req.Ref (APP@DIGEST): every promotion and
// every rollback of that digest, in every environment, is refused from now
// on, whatever its gates say, until Unrevoke. Revoking a revoked digest
// records nothing. The result names the environments that run it now.
func (e *Engine) Revoke(ctx context.Context, req ControlRequest) (*ControlResult, error) {
	return e.revocation(ctx, ledger.KindRevocation, req)
}

// Unrevoke records the end of a revocation of req.Ref. Unrevoking a digest
// that is not revoked records nothing.
func (e *Engine) Unrevoke(ctx context.Context, req ControlRequest) (*ControlResult, error) {
	return e.revocation(ctx, ledger.KindUnrevocation, req)
}

// revocation writes one revocation or unrevocation record under the lock
// of the app's revocation chain, after reading that chain under it.
func (e *Engine) revocation(ctx context.Context, kind ledger.Kind, req ControlRequest) (*ControlResult, error) {
	verb := map[ledger.Kind]string{ledger.KindRevocation: "revoke", ledger.KindUnrevocation: "unrevoke"}[kind]
	ref := req.Ref
	switch {
	case ref.App == "" || ref.Tag != "" || ref.Digest == "":
		return nil, errs.Usagef("%s %s: expected APP@DIGEST (sha256: and 64 hex digits): a revocation names content, never a tag", verb, ref)
	case len(ref.Digest) != len("sha256:")+64:
		return nil, errs.Usagef("%s %s: expected the whole digest, sha256: and 64 hex digits", verb, ref)
	case strings.TrimSpace(req.Reason) == "":
		return nil, errs.Usagef("%s %s: --reason TEXT is required: the record says why", verb, ref)
	}
	if err := checkApp(ref.App); err != nil {
		return nil, err
	}
	for _, env := range e.cfg.Environments { // the app must be one the pipeline can hold
		if _, err := env.RepositoryFor(ref.App); err != nil {
			return nil, err
		}
	}
	res := &ControlResult{Kind: kind, Scope: ref.App + "@" + ref.Digest}
	rc := e.recorder(ref.App, ledger.AllEnvs)
	if _, err := rc.lock(ctx); err != nil {
		return nil, err
	}
	defer rc.release()
	revs, err := e.reader().revocations(ctx, ref.App)
	if err != nil {
		return nil, err
	}
	in, revoked := revs[ref.Digest]
	switch {
	case kind == ledger.KindRevocation && revoked:
		res.NothingToDo, res.Already = true, &in
	case kind == ledger.KindUnrevocation && !revoked:
		res.NothingToDo = true
	default:
		rec := &ledger.Record{Time: e.now().UTC(), Kind: kind, App: ref.App, Env: ledger.AllEnvs, Digest: ref.Digest,
			Source: ledger.Source{Given: ref.String(), Resolved: ref.Digest}, Actor: e.actor, CI: e.ci, Reason: req.Reason}
		if kind == ledger.KindRevocation {
			if rec.Content, err = e.revokedContent(ctx, ref.App, ref.Digest); err != nil {
				return nil, err
			}
		}
		if err := rc.append(ctx, rec); err != nil {
			return nil, err
		}
		res.Record = rec
	}
	if kind == ledger.KindRevocation {
		if res.Running, err = e.running(ctx, ref.App); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// running names the environments whose current digest of app a revocation
// in force covers (itself, or content within it); one whose content cannot
// be read is named too, with why: better a rollback looked at than missed.
func (e *Engine) running(ctx context.Context, app string) ([]string, error) {
	st, revs, err := e.reader().status(ctx, app)
	if err != nil {
		return nil, err
	}
	e.revokedRunning(ctx, st, revs)
	return append(st.RunningRevoked, st.Unchecked...), nil
}
