//go:build !unix

package ledger

import (
	"errors"
	"os"
)

// tryLock is not implemented where flock(2) is missing: the SQLite ledger's
// Lock needs a Unix system.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this system")
}
