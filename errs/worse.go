package errs

import "errors"

// Worse reports whether failure a is more serious than failure b, by the
// rule a batch reports its worst failure with: an error (network, I/O,
// ledger: anything not classed below) over a conflict over a gate rejection
// over a usage or configuration error, and any failure over none. The
// classes are tested in the order cmd decides exit codes in.
func Worse(a, b error) bool { return severity(a) > severity(b) }

func severity(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage), errors.Is(err, ErrConfig):
		return 1
	case errors.Is(err, ErrGateRejected):
		return 2
	case errors.Is(err, ErrConflict):
		return 3
	}
	return 4
}
