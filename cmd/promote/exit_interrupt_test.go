package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/errs"
)

// A command a signal stopped exits as a shell reports it, whatever error
// the cancelled request surfaced as; other cancellations keep their code.
func TestExitCodeOfAnInterruptedCommand(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&errs.Interrupt{Signal: syscall.SIGTERM})
	err := interrupted(ctx, fmt.Errorf("reading ledger: %w", context.Canceled))
	assert.Equal(t, 143, exitCode(err))
	assert.Equal(t, "interrupted (terminated): reading ledger: context canceled", err.Error())
	assert.Same(t, err, interrupted(ctx, err), "wrapped once")
	assert.NoError(t, interrupted(ctx, nil))

	plain, stop := context.WithCancel(context.Background())
	stop()
	other := errors.New("registry down")
	assert.Same(t, other, interrupted(plain, other), "no signal, no change")
	assert.Equal(t, ExitError, exitCode(interrupted(plain, other)))
	assert.Equal(t, 130, exitCode(&errs.Interrupt{Signal: syscall.SIGINT}))
}
