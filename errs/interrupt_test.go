package errs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInterruptIsTheCauseAndCarriesTheShellCode(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupt{Signal: syscall.SIGTERM})
	err := fmt.Errorf("copying blob: %w", context.Cause(ctx))
	var in *Interrupt
	require.True(t, errors.As(err, &in))
	assert.Equal(t, 143, in.Code())
	assert.Equal(t, 130, (&Interrupt{Signal: os.Interrupt}).Code())
	assert.Equal(t, "interrupted (terminated)", in.Error())
}
