package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/errs"
)

// Exit codes: the contract CI scripts branch on (README "Exit codes").
const (
	ExitOK       = 0 // done, or nothing to do
	ExitError    = 1 // registry, network, I/O, ledger
	ExitUsage    = 2 // usage or configuration error
	ExitRejected = 3 // a gate rejected the image
	ExitConflict = 4 // immutable tag conflict, path violation, ledger head kept moving, ledger lock lost
)

// exitCode maps an error to the exit code contract; nothing else decides it.
// Work a signal stopped exits as a shell reports it: 128 + the signal's
// number (interrupted, below, puts the signal in the error).
func exitCode(err error) int {
	var sig *errs.Interrupt
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &sig):
		return sig.Code()
	case errors.Is(err, errs.ErrUsage), errors.Is(err, errs.ErrConfig):
		return ExitUsage
	case errors.Is(err, errs.ErrGateRejected):
		return ExitRejected
	case errors.Is(err, errs.ErrConflict):
		return ExitConflict
	}
	return ExitError
}

// interrupted is err, with the signal that cancelled ctx in its chain if
// one did (a cancelled request reports only "context canceled").
func interrupted(ctx context.Context, err error) error {
	var sig *errs.Interrupt
	if err == nil || errors.As(err, &sig) || !errors.As(context.Cause(ctx), &sig) {
		return err
	}
	return fmt.Errorf("%w: %w", sig, err)
}
