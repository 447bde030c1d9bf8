package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// ControlRequest asks for a freeze or unfreeze of an environment (Env, or
// every environment with All), or a revocation or unrevocation of a digest
// of an app (Ref: APP@DIGEST).
type ControlRequest struct {
	Env    string
	All    bool
	Ref    Ref
	Reason string
}

// ControlResult says what a freeze, unfreeze, revoke or unrevoke did.
type ControlResult struct {
	Kind ledger.Kind `json:"kind"`
	// Scope is the environment frozen or unfrozen ("*": every one), or
	// APP@DIGEST revoked or unrevoked.
	Scope string `json:"scope"`
	// Record is the record written; nil when there was nothing to do.
	Record *ledger.Record `json:"record,omitempty"`
	// Already is the record already in force when there was nothing to
	// do (a freeze of a frozen environment, a revocation of a revoked
	// digest).
	Already     *ledger.Record `json:"already,omitempty"`
	NothingToDo bool           `json:"nothingToDo"`
	// StillFrozen names the freezes still in force over the environment
	// after an unfreeze (freeze --all outlives unfreeze ENV, and the
	// other way round).
	StillFrozen []string `json:"stillFrozen,omitempty"`
	// Running names the environments whose current digest is the one
	// revoked: a rollback there is the next step.
	Running []string `json:"running,omitempty"`
}

// Freeze records a freeze of req.Env, or of every environment with
// req.All: promotions into it are refused until an unfreeze; rollbacks
// are not. Freezing what is frozen records nothing.
func (e *Engine) Freeze(ctx context.Context, req ControlRequest) (*ControlResult, error) {
	return e.control(ctx, ledger.KindFreeze, req)
}

// Unfreeze records the end of the freeze of req.Env (or, with req.All, of
// the freeze of every environment). Unfreezing what is not frozen records
// nothing.
func (e *Engine) Unfreeze(ctx context.Context, req ControlRequest) (*ControlResult, error) {
	return e.control(ctx, ledger.KindUnfreeze, req)
}

// control writes one freeze or unfreeze record under the lock of the
// control chain it belongs to, after reading that chain's head under it.
func (e *Engine) control(ctx context.Context, kind ledger.Kind, req ControlRequest) (*ControlResult, error) {
	scope, err := e.freezeScope(req, kind)
	if err != nil {
		return nil, err
	}
	res := &ControlResult{Kind: kind, Scope: scope}
	rc := e.recorder(ledger.AllApps, scope)
	if _, err := rc.lock(ctx); err != nil {
		return nil, err
	}
	defer rc.release()
	head, err := e.reader().controlHead(ctx, ledger.AllApps, scope)
	if err != nil {
		return nil, err
	}
	frozen := head != nil && head.Kind == ledger.KindFreeze
	switch {
	case kind == ledger.KindFreeze && frozen:
		res.NothingToDo, res.Already = true, head
	case kind == ledger.KindUnfreeze && !frozen:
		if err := e.unfreezeNothing(ctx, scope); err != nil {
			return nil, err
		}
		res.NothingToDo = true
	default:
		rec := &ledger.Record{Time: e.now().UTC(), Kind: kind, App: ledger.AllApps, Env: scope,
			Actor: e.actor, CI: e.ci, Reason: req.Reason}
		if err := rc.append(ctx, rec); err != nil {
			return nil, err
		}
		res.Record = rec
	}
	if kind == ledger.KindUnfreeze && scope != ledger.AllEnvs {
		still, err := e.reader().freezes(ctx, scope)
		if err != nil {
			return nil, err
		}
		for _, f := range still {
			res.StillFrozen = append(res.StillFrozen, "every environment "+describeControl(f))
		}
	}
	return res, nil
}

// freezeScope checks a freeze or unfreeze request and returns the
// environment it is about (ledger.AllEnvs for all of them).
func (e *Engine) freezeScope(req ControlRequest, kind ledger.Kind) (string, error) {
	verb := string(kind)
	switch {
	case req.All && req.Env != "":
		return "", errs.Usagef("%s %s --all: name an environment or pass --all, not both", verb, req.Env)
	case req.All:
		return ledger.AllEnvs, e.needReason(kind, req.Reason)
	case req.Env == "":
		return "", errs.Usagef("%s: name an environment (%s), or pass --all", verb, strings.Join(e.promotable(), ", "))
	}
	env, err := e.cfg.Env(req.Env)
	if err != nil {
		return "", err
	}
	if env.From == "" {
		return "", errs.Usagef("%s %s: %s is fed by pushes, not by promote, so a freeze would hold nothing back; "+
			"freeze an environment promote promotes into (%s)", verb, env.Name, env.Name, strings.Join(e.promotable(), ", "))
	}
	return env.Name, e.needReason(kind, req.Reason)
}

// needReason refuses a freeze without --reason: the record must say why.
func (e *Engine) needReason(kind ledger.Kind, reason string) error {
	if kind == ledger.KindFreeze && strings.TrimSpace(reason) == "" {
		return errs.Usagef("freeze: --reason TEXT is required: the record says why promotions stopped")
	}
	return nil
}

// promotable names the environments promote promotes into.
func (e *Engine) promotable() []string {
	var out []string
	for _, env := range e.cfg.Environments {
		if env.From != "" {
			out = append(out, env.Name)
		}
	}
	return out
}

// unfreezeNothing is an unfreeze of env that is not frozen on its own: an
// error when every environment is frozen (unfreeze ENV cannot lift that:
// the caller would think env open), else nothing to do.
func (e *Engine) unfreezeNothing(ctx context.Context, env string) error {
	if env == ledger.AllEnvs {
		return nil
	}
	all, err := e.reader().controlHead(ctx, ledger.AllApps, ledger.AllEnvs)
	if err != nil || all == nil || all.Kind != ledger.KindFreeze {
		return err
	}
	return errs.Usagef("unfreeze %s: %s is not frozen on its own, but every environment is frozen %s: "+
		"promote unfreeze --all lifts that", env, env, describeControl(*all))
}

// String renders what a control command did, for logs.
func (c *ControlResult) String() string {
	if c.NothingToDo {
		return fmt.Sprintf("%s %s: nothing to do", c.Kind, c.Scope)
	}
	return fmt.Sprintf("%s %s: record %s", c.Kind, c.Scope, c.Record.ID)
}
