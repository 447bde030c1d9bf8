package main

import (
	"errors"

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
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errs.ErrUsage), errors.Is(err, errs.ErrConfig):
		return ExitUsage
	case errors.Is(err, errs.ErrGateRejected):
		return ExitRejected
	case errors.Is(err, errs.ErrConflict):
		return ExitConflict
	}
	return ExitError
}
