package promote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/promote-dev/promote/promote/ledger"
)

// chainLease is a ledger lock this engine holds on one chain. Release drops
// it from the engine's table before the ledger releases it, so a waiter in
// this engine that takes the lock next registers its own.
type chainLease struct {
	ledger.Lease
	e     *Engine
	chain [2]string
	once  sync.Once
}

func (c *chainLease) Release() {
	c.once.Do(func() {
		c.e.leases.drop(c.chain, c)
		c.Lease.Release()
	})
}

// leaseTable is the ledger locks an engine holds, by chain, so that every
// append can prove that the lock it is made under is still held.
type leaseTable struct {
	mu   sync.Mutex
	held map[[2]string]*chainLease
}

func (t *leaseTable) put(c *chainLease) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held == nil {
		t.held = map[[2]string]*chainLease{}
	}
	t.held[c.chain] = c
}

func (t *leaseTable) drop(chain [2]string, c *chainLease) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held[chain] == c {
		delete(t.held, chain)
	}
}

func (t *leaseTable) get(chain [2]string) *chainLease {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.held[chain]
}

// lock takes the ledger lock of app in env and returns its release.
func (e *Engine) lock(ctx context.Context, app, env string) (func(), error) {
	l, err := e.lease(ctx, app, env)
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// lease takes the ledger lock of app in env. On a backend where it can be
// lost (S3), the holder works under Watch and checks it (checkLease) before
// each write only the holder may make: tags and records.
func (e *Engine) lease(ctx context.Context, app, env string) (*chainLease, error) {
	e.log.Debug("waiting for ledger lock", "app", app, "env", env)
	l, err := e.led.Lock(ctx, app, env)
	if err != nil {
		return nil, fmt.Errorf("locking ledger for %s in %s: %w", app, env, err)
	}
	c := &chainLease{Lease: l, e: e, chain: [2]string{app, env}}
	e.leases.put(c)
	return c, nil
}

// checkLease proves that this engine still holds the ledger lock of app in
// env, right before a write only its holder may make (before is what the
// write did not do: "no tag was written"). A lost lock is an error matching
// ledger.ErrLeaseLost and errs.ErrConflict.
func (e *Engine) checkLease(ctx context.Context, app, env, before string) error {
	c := e.leases.get([2]string{app, env})
	if c == nil {
		return fmt.Errorf("promote: %s in %s: writing without holding its ledger lock (a bug)", app, env)
	}
	if err := c.Check(ctx); err != nil {
		if errors.Is(err, ledger.ErrLeaseLost) {
			e.log.Warn("ledger lock lost; stopping", "app", app, "env", env, "error", err)
		}
		return &leaseCheckError{before: before, err: err}
	}
	return nil
}

// leaseCheckError is a failed checkLease: it says which write did not happen.
type leaseCheckError struct {
	before string
	err    error
}

func (e *leaseCheckError) Error() string { return e.before + ": " + e.err.Error() }
func (e *leaseCheckError) Unwrap() error { return e.err }

// leaseLost is err, or, if ctx ended because the lease it watches was lost,
// that loss: the failed step (a request cancelled mid-copy) is then only
// its consequence. A failed checkLease says itself what it stopped.
func leaseLost(ctx context.Context, step string, err error) error {
	var checked *leaseCheckError
	if err == nil || errors.As(err, &checked) {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ledger.ErrLeaseLost) {
		return fmt.Errorf("%s stopped: %w", step, cause)
	}
	return err
}
