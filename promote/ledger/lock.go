package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// lockPoll is how often a waiting Lock tries the lock file again.
const lockPoll = 20 * time.Millisecond

// Lock takes the writer lock of app in env and returns it as a Lease that
// is never lost; Release may be called more than once. The lock is an OS file
// lock on <ledger>.locks/<hash of app and env>.lock, so it excludes other
// goroutines and other processes on this machine, and the kernel drops it
// when the holding process dies: a crashed promoter leaves no stale lock.
// Lock waits until the lock is free or ctx is done, and then returns an error
// wrapping ctx.Err(). Holding the lock is advice between well-behaved
// writers; Append's compare-and-swap is what keeps the chain linear.
func (l *sqliteLedger) Lock(ctx context.Context, app, env string) (Lease, error) {
	if app == "" || env == "" {
		return nil, fmt.Errorf("locking ledger %s: app (%q) and env (%q) must not be empty", l.path, app, env)
	}
	if err := l.writable("locking", l.path); err != nil {
		return nil, err
	}
	release, err := lockFile(ctx, l.chainLockPath(app, env))
	if err != nil {
		return nil, fmt.Errorf("locking %s in %s (ledger %s): %w", app, env, l.path, err)
	}
	return &fileLease{release: release}, nil
}

// chainLockPath names the lock file of the chain of app in env. The name is
// a hash, so any app or env string makes a safe file name; the NUL between
// them keeps ("a", "bc") and ("ab", "c") apart.
func (l *sqliteLedger) chainLockPath(app, env string) string {
	sum := sha256.Sum256([]byte(app + "\x00" + env))
	return filepath.Join(l.lockDir, hex.EncodeToString(sum[:])[:16]+".lock")
}

// lockFile takes an exclusive OS lock on the file at path, creating it
// (mode 0600) if needed, and polls every lockPoll until it gets the lock or
// ctx is done. Each call opens its own file descriptor, so two callers in one
// process exclude each other too. Lock files are never removed: removing one
// would let a later locker lock a new file while an older holder keeps the old.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	ticker := time.NewTicker(lockPoll)
	defer ticker.Stop()
	for {
		locked, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-ticker.C:
		}
	}
	var once sync.Once
	return func() { once.Do(func() { _ = f.Close() }) }, nil
}
