package promote

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/promote-dev/promote/promote/ledger"
)

// freeze is the release-policy phase of freezes: while a freeze of the
// environment (promote freeze ENV) or of every environment (freeze --all)
// is in force, a promotion into it is refused, recorded, before anything
// is judged or copied, unless it breaks the glass where the environment
// allows it. Rollbacks are not held to freezes: they are how incidents end.
func (r *run) freeze(ctx context.Context) error {
	frozen, err := r.e.reader().freezes(ctx, r.env.Name)
	if err != nil || len(frozen) == 0 {
		return err
	}
	reason, ev, lift := r.frozenBy(frozen)
	if glass, err := r.breakGlass(PolicyFreeze, reason, ev); glass || err != nil {
		return err
	}
	return r.holdBack(ctx, func() error {
		return r.policyRefuse(PolicyFreeze, fmt.Sprintf("%s; %s lifts it%s", reason, lift, r.glassHint()), ev)
	})
}

// frozenBy says which freezes are in force, as a refusal's reason, its
// evidence, and the command that lifts the last of them.
func (r *run) frozenBy(frozen []ledger.Record) (reason string, ev map[string]any, lift string) {
	var why, ids []string
	for _, f := range frozen {
		scope := r.env.Name + " is frozen"
		if f.Env == ledger.AllEnvs {
			scope = "every environment is frozen"
		}
		why = append(why, scope+" "+describeControl(f))
		ids = append(ids, f.ID)
	}
	lift = "promote unfreeze " + r.env.Name
	if frozen[len(frozen)-1].Env == ledger.AllEnvs {
		lift = "promote unfreeze --all"
	}
	return strings.Join(why, "; "), map[string]any{"freezes": ids}, lift
}

// holdBack refuses the run with refusal, unless the environment already
// runs the digest: then the refusal waits for the plan, which gives it
// only if there is something to write (a retried job whose promotion
// went through before the freeze exits 0 with nothing to do).
func (r *run) holdBack(ctx context.Context, refusal func() error) error {
	cur, err := r.e.reader().currentUntil(ctx, r.res.App, r.env.Name, time.Time{})
	if err != nil {
		return err
	}
	if cur != nil && cur.Digest == r.res.Digest {
		r.heldBack = append(r.heldBack, refusal)
		return nil
	}
	return refusal()
}

// heldBackRefusal is the first refusal held back (holdBack) once the plan
// found something to write, or nil.
func (r *run) heldBackRefusal() error {
	if len(r.heldBack) == 0 || r.res.NothingToDo {
		return nil
	}
	return r.heldBack[0]()
}

// recheck reads the freezes and revocations again under the ledger lock,
// together, before anything is copied: one recorded while the run was
// judged stops it all the same. A freeze the run passed by break-glass
// stays passed.
func (r *run) recheck(ctx context.Context) error {
	var frozen []ledger.Record
	var revs map[string]ledger.Record
	var freezeErr, revErr error
	var wg sync.WaitGroup
	wg.Go(func() { frozen, freezeErr = r.e.reader().freezes(ctx, r.env.Name) })
	wg.Go(func() { revs, revErr = r.e.reader().revocations(ctx, r.res.App) })
	wg.Wait()
	// decided in the order the two were once read in: the freeze first
	if freezeErr != nil {
		return freezeErr
	}
	if len(frozen) > 0 && !r.passedByGlass(PolicyFreeze) {
		reason, ev, lift := r.frozenBy(frozen)
		return r.policyRefuse(PolicyFreeze, fmt.Sprintf("%s (recorded while this promotion was under way; nothing was copied); %s lifts it",
			reason, lift), ev)
	}
	if revErr != nil {
		return revErr
	}
	return r.refuseRevoked(revs)
}

// passedByGlass reports whether break-glass passed policy in this run.
func (r *run) passedByGlass(policy string) bool {
	for _, p := range r.res.Policies {
		if p.Name == policy && p.Evidence["breakGlass"] != nil {
			return true
		}
	}
	return false
}

// breakGlass passes a policy that would refuse (why) when the run breaks
// the glass (--break-glass) and the environment allows it: it notes the
// pass with the justification, marks the result and the record, and asks
// the approvals phase for breakGlass.approvals approvals. It reports
// whether it passed; an error is the refusal of a break-glass the
// environment does not allow.
func (r *run) breakGlass(policy, why string, evidence map[string]any) (bool, error) {
	text := strings.TrimSpace(r.req.BreakGlass)
	if text == "" {
		return false, nil
	}
	if r.env.BreakGlass == nil {
		return false, r.policyRefuse(policy, fmt.Sprintf("%s; --break-glass was given, but %s does not allow break-glass "+
			"(no breakGlass in its configuration)", why, r.env.Name), evidence)
	}
	ev := map[string]any{"breakGlass": text}
	for k, v := range evidence {
		ev[k] = v
	}
	if n := r.env.BreakGlass.Approvals; n > 0 {
		ev["approvalsRequired"] = n
		r.glassApprovals = max(r.glassApprovals, n)
	}
	r.policyPass(policy, fmt.Sprintf("BREAK-GLASS: %s; passed by break-glass: %s", why, text), ev)
	r.res.BreakGlass = text
	r.e.log.Warn("BREAK-GLASS: passing a release policy", "policy", policy, "app", r.res.App, "env", r.env.Name,
		"justification", text, "refusal", why)
	return true, nil
}

// glassHint tells a refused run how break-glass could pass it, where the
// environment allows it.
func (r *run) glassHint() string {
	switch {
	case r.env.BreakGlass == nil:
		return ""
	case r.env.BreakGlass.Approvals > 0:
		return fmt.Sprintf(", or in an emergency --break-glass TEXT with %d approvals", r.env.BreakGlass.Approvals)
	}
	return ", or in an emergency --break-glass TEXT"
}
