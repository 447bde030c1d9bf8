package errs

import (
	"fmt"
	"os"
	"syscall"
)

// Interrupt is why the work stopped when a signal (SIGINT, SIGTERM) asked
// it to: the cause of the cancelled context, found in the error chain of
// whatever the cancellation failed. cmd exits with 128 + the signal's
// number (130 for SIGINT, 143 for SIGTERM), as shells do.
type Interrupt struct {
	Signal os.Signal
}

func (e *Interrupt) Error() string { return fmt.Sprintf("interrupted (%s)", e.Signal) }

// Code is the exit code a shell gives a process the signal ended.
func (e *Interrupt) Code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}
