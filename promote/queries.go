package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// Current returns what env holds for app, per the ledger.
func (r *Reader) Current(ctx context.Context, envName, app string) (*Current, error) {
	return r.held(ctx, envName, app, time.Time{}, func(env string) error {
		return fmt.Errorf("%w: nothing has been promoted to %s for %s", errs.ErrNotFound, env, app)
	})
}

// CurrentAt returns what env held for app at time at: the subject of its
// latest promotion or rollback recorded at or before then.
func (r *Reader) CurrentAt(ctx context.Context, envName, app string, at time.Time) (*Current, error) {
	return r.held(ctx, envName, app, at.Add(time.Nanosecond), func(env string) error {
		return fmt.Errorf("%w: %s held nothing for %s at %s", errs.ErrNotFound, env, app, at.UTC().Format(time.RFC3339))
	})
}

// held is what env held for app per the records before until (zero: all
// of them); none is the error when it held nothing.
func (r *Reader) held(ctx context.Context, envName, app string, until time.Time, none func(env string) error) (*Current, error) {
	env, err := r.cfg.Env(envName)
	if err != nil {
		return nil, err
	}
	repo, err := env.RepositoryFor(app)
	if err != nil {
		return nil, err
	}
	cur, err := r.currentUntil(ctx, app, env.Name, until)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, none(env.Name)
	}
	return &Current{App: app, Env: env.Name, Repository: repo, Digest: cur.Digest, Reference: repo + "@" + cur.Digest, Record: cur}, nil
}

// Show returns one record by id with the result of its check. A record that
// does not check out is returned with a *ledger.TamperedError, so that it
// can be shown, marked, and the command still fail.
func (r *Reader) Show(ctx context.Context, id string) (ledger.Checked, error) {
	c, err := r.led.GetChecked(ctx, id)
	if err != nil {
		return ledger.Checked{}, err
	}
	return c, c.Err()
}

// History returns ledger records newest first, each with the result of its
// check: one that does not check out is listed, marked, not an error.
func (r *Reader) History(ctx context.Context, q ledger.Query) ([]ledger.Checked, error) {
	if q.Env != "" {
		if _, err := r.cfg.Env(q.Env); err != nil {
			return nil, err
		}
	}
	return r.led.RecordsChecked(ctx, q)
}

// VerifyLedger checks every chain of the ledger.
func (r *Reader) VerifyLedger(ctx context.Context) (ledger.Report, error) { return r.led.Verify(ctx) }

// The engine answers the same questions from its own ledger.

// Current is Reader.Current on the engine's ledger.
func (e *Engine) Current(ctx context.Context, envName, app string) (*Current, error) {
	return e.reader().Current(ctx, envName, app)
}

// CurrentAt is Reader.CurrentAt on the engine's ledger.
func (e *Engine) CurrentAt(ctx context.Context, envName, app string, at time.Time) (*Current, error) {
	return e.reader().CurrentAt(ctx, envName, app, at)
}

// Show is Reader.Show on the engine's ledger.
func (e *Engine) Show(ctx context.Context, id string) (ledger.Checked, error) {
	return e.reader().Show(ctx, id)
}

// History is Reader.History on the engine's ledger.
func (e *Engine) History(ctx context.Context, q ledger.Query) ([]ledger.Checked, error) {
	return e.reader().History(ctx, q)
}

// VerifyLedger is Reader.VerifyLedger on the engine's ledger.
func (e *Engine) VerifyLedger(ctx context.Context) (ledger.Report, error) {
	return e.reader().VerifyLedger(ctx)
}
