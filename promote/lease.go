package promote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/promote-dev/promote/promote/ledger"
)

// chainLease is the ledger lock of one chain (an app in an environment),
// held by a recorder (record.go) from lock to release.
type chainLease struct {
	ledger.Lease
	app, env string
	e        *Engine
	once     sync.Once
}

// Release lets the lock go; a second call does nothing.
func (c *chainLease) Release() { c.once.Do(c.Lease.Release) }

// lease takes the ledger lock of app in env. On a backend where it can be
// lost (S3), the holder works under Watch and checks it (check) before
// each write only the holder may make: tags and records.
func (e *Engine) lease(ctx context.Context, app, env string) (*chainLease, error) {
	e.log.Debug("waiting for ledger lock", "app", app, "env", env)
	l, err := e.led.Lock(ctx, app, env)
	if err != nil {
		return nil, fmt.Errorf("locking ledger for %s in %s: %w", app, env, err)
	}
	return &chainLease{Lease: l, app: app, env: env, e: e}, nil
}

// check proves that the lock is still held, right before a write only its
// holder may make (before is what the write did not do: "no tag was
// written"). A lost lock is an error matching ledger.ErrLeaseLost and
// errs.ErrConflict.
func (c *chainLease) check(ctx context.Context, before string) error {
	if err := c.Check(ctx); err != nil {
		if errors.Is(err, ledger.ErrLeaseLost) {
			c.e.log.Warn("ledger lock lost; stopping", "app", c.app, "env", c.env, "error", err)
		}
		return &leaseCheckError{before: before, err: err}
	}
	return nil
}

// leaseCheckError is a failed check: it says which write did not happen.
type leaseCheckError struct {
	before string
	err    error
}

func (e *leaseCheckError) Error() string { return e.before + ": " + e.err.Error() }
func (e *leaseCheckError) Unwrap() error { return e.err }

// leaseLost is err, or, if ctx ended because the lease it watches was lost,
// that loss: the failed step (a request cancelled mid-copy) is then only
// its consequence. A failed check says itself what it stopped, and a
// refusal stands as it is.
func leaseLost(ctx context.Context, step string, err error) error {
	var checked *leaseCheckError
	var no *refusal
	if err == nil || errors.As(err, &checked) || errors.As(err, &no) {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ledger.ErrLeaseLost) {
		return fmt.Errorf("%s stopped: %w", step, cause)
	}
	return err
}
