package ledger

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockedFor is how long a Lock that must block is given before its
// context ends.
const blockedFor = 150 * time.Millisecond

func TestLockExcludesSameChain(t *testing.T) {
	ctx := context.Background()
	l, path := openTestLedger(t)
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)

	// Another Ledger on the same file, as another process would have.
	other, err := Open(ctx, path)
	require.NoError(t, err)
	defer other.Close()
	for name, lg := range map[string]Ledger{"same ledger": l, "other ledger": other} {
		start := time.Now() // before the deadline is set, which counts from its own now
		short, cancel := context.WithTimeout(ctx, blockedFor)
		_, err := lg.Lock(short, "web", "prod")
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.GreaterOrEqual(t, time.Since(start), blockedFor, "%s: Lock waited for the holder", name)
		assert.ErrorContains(t, err, "web in prod", name)
	}

	// A waiter gets the lock once it is released.
	got := make(chan error, 1)
	go func() {
		waiter, err := other.Lock(ctx, "web", "prod")
		if err == nil {
			waiter.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while the lock was held", err)
	case <-time.After(blockedFor):
	}
	held.Release()
	held.Release() // a second release is harmless
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not return after release")
	}
}

func TestLockOtherChainsDoNotBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), blockedFor)
	defer cancel()
	l, _ := openTestLedger(t)
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	defer held.Release()
	for _, chain := range [][2]string{{"web", "test"}, {"api", "prod"}, {"webp", "rod"}, {"we", "bprod"}} {
		waiter, err := l.Lock(ctx, chain[0], chain[1])
		require.NoError(t, err, "%s in %s", chain[0], chain[1])
		waiter.Release()
	}
}

func TestLockCancelled(t *testing.T) {
	l, _ := openTestLedger(t)
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	defer held.Release()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	_, err = l.Lock(ctx, "web", "prod")
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "web in prod")

	// A context that is already done fails at once, even on a free lock.
	_, err = l.Lock(ctx, "api", "test")
	require.ErrorIs(t, err, context.Canceled)

	_, err = l.Lock(context.Background(), "", "prod")
	assert.Error(t, err)
}

func TestLockFilesArePrivateAndNamedByHash(t *testing.T) {
	l, path := openTestLedger(t)
	held, err := l.Lock(context.Background(), "web/../../x", "prod")
	require.NoError(t, err)
	held.Release()
	files, err := filepath.Glob(filepath.Join(path+".locks", "*.lock"))
	require.NoError(t, err)
	var chainLocks int
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
		if filepath.Base(f) != "open.lock" {
			chainLocks++
			assert.Regexp(t, `^[0-9a-f]{16}\.lock$`, filepath.Base(f))
		}
	}
	assert.Equal(t, 1, chainLocks)
}

// An OS file lock cannot be lost: its watched context lasts until stopped
// and Check succeeds until the lock is released.
func TestFileLeaseIsNeverLost(t *testing.T) {
	l, _ := openTestLedger(t)
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	watched, stop := held.Watch(context.Background())
	require.NoError(t, held.Check(context.Background()))
	assert.NoError(t, watched.Err())
	stop()
	assert.ErrorIs(t, watched.Err(), context.Canceled)
	held.Release()
	err = held.Check(context.Background())
	require.Error(t, err, "Check after Release")
	assert.NotErrorIs(t, err, ErrLeaseLost)
}
