package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/promote-dev/promote/errs"
)

// ErrLeaseLost is matched (errors.Is) by the error of a writer lock that was
// lost while held: taken over by another promoter, or expired because it
// could not be renewed. Its holder must stop writing; it also matches
// errs.ErrConflict (exit 4), as another writer now holds the chain.
var ErrLeaseLost = errors.New("ledger lock lost")

// Lease is the writer lock of one chain, held from Lock until Release.
// A backend whose lock can be lost (S3: a lease that must be renewed) says
// so through Watch and Check; a lock that cannot be lost (SQLite: an OS
// file lock) never reports a loss.
type Lease interface {
	// Watch returns a context derived from ctx that is also cancelled, with
	// a cause (context.Cause) matching ErrLeaseLost, as soon as the lease is
	// lost; stop releases the watch and cancels the context.
	Watch(ctx context.Context) (watched context.Context, stop context.CancelFunc)
	// Check proves, with a round trip to the store where the lock lives
	// there, that the lease is still held, and extends it if it can be.
	// It returns an error matching ErrLeaseLost if the lease was lost, or
	// another error if it could not be proved either way. Callers check
	// right before each write that only the holder may make.
	Check(ctx context.Context) error
	// Release gives the lease up; it may be called more than once.
	Release()
}

// LeaseLostError says how a lease was lost. It matches ErrLeaseLost and
// errs.ErrConflict.
type LeaseLostError struct {
	App, Env string
	Lock     string    // where the lock lives, e.g. s3://bucket/prefix/locks/app/env
	TakenBy  string    // the holder that took the lease over; "" if it expired
	At       time.Time // when the loss was noticed
	// Expired: the lease could not be renewed before its expiry (counted
	// from the last renewal that succeeded); LastErr is the last failure.
	Expired bool
	TTL     time.Duration
	LastErr string
}

func (e *LeaseLostError) Error() string {
	what := "another promoter took it over"
	switch {
	case e.TakenBy != "":
		what = fmt.Sprintf("another promoter (%s) took it over", e.TakenBy)
	case e.Expired && e.LastErr != "":
		what = fmt.Sprintf("it could not be renewed within its %s lifetime and expired (last attempt: %s), so another promoter may hold it", e.TTL, e.LastErr)
	case e.Expired:
		what = fmt.Sprintf("it could not be renewed within its %s lifetime and expired, so another promoter may hold it", e.TTL)
	}
	return fmt.Sprintf("lost the ledger lock of %s in %s (%s): %s; run the command again: it waits while the other promoter holds the lock",
		e.App, e.Env, e.Lock, what)
}

// Is makes a *LeaseLostError match ErrLeaseLost and errs.ErrConflict.
func (e *LeaseLostError) Is(target error) bool {
	return target == ErrLeaseLost || target == errs.ErrConflict
}

// fileLease is a lock that cannot be lost while held: an OS file lock,
// which only its holder's release (or death) drops.
type fileLease struct {
	release  func()
	released atomic.Bool
}

// Watch returns ctx with a cancel: a file lock is never lost.
func (f *fileLease) Watch(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}

// Check needs no round trip: a held file lock is still held.
func (f *fileLease) Check(ctx context.Context) error {
	if f.released.Load() {
		return errReleased
	}
	return ctx.Err()
}

// Release drops the file lock.
func (f *fileLease) Release() {
	f.released.Store(true)
	f.release()
}

// errReleased is Check's answer after Release: a caller's bug, not a loss.
var errReleased = errors.New("ledger lock already released by its holder")
