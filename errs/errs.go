// Package errs holds the sentinel and typed errors that callers branch on.
// Exit codes are decided from these in cmd/promote and nowhere else.
package errs

import (
	"errors"
	"fmt"
)

// Sentinels. Wrap them with %w; test them with errors.Is.
var (
	// ErrUsage: the command line is wrong (exit 2).
	ErrUsage = errors.New("usage error")
	// ErrConfig: environments.yaml or another input is invalid (exit 2).
	ErrConfig = errors.New("configuration error")
	// ErrGateRejected: a gate of the target environment said no (exit 3).
	ErrGateRejected = errors.New("gate rejected")
	// ErrConflict: an immutable tag names another digest, the promotion path
	// is violated, the ledger head kept moving, or the ledger lock was lost
	// to another promoter (exit 4).
	ErrConflict = errors.New("conflict")
	// ErrNotFound: a reference, digest or record does not exist (exit 1).
	ErrNotFound = errors.New("not found")
)

// ConfigError names the file, line and field of a configuration problem and
// says what was expected. It matches ErrConfig.
type ConfigError struct {
	File  string
	Line  int    // 0 when unknown
	Field string // dotted path such as environments[1].from
	Msg   string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Is makes a *ConfigError match ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Usagef returns an error wrapping ErrUsage.
func Usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// Conflictf returns an error wrapping ErrConflict.
func Conflictf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, a...))
}
