package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// writers is how many promoters race for one chain in these tests.
const writers = 8

// promoteLocked is what a promoter does: lock the chain, read its head,
// append after it, release.
func promoteLocked(ctx context.Context, l Ledger, rec *Record) error {
	held, err := l.Lock(ctx, rec.App, rec.Env)
	if err != nil {
		return err
	}
	defer held.Release()
	head, err := l.Head(ctx, rec.App, rec.Env)
	if err != nil {
		return err
	}
	return l.Append(ctx, rec, head)
}

func TestConcurrentLockedAppendsFromSeparateLedgers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "ledger.db")

	// Each goroutine opens the (not yet existing) file itself, as separate
	// processes would: creation and schema must also survive the race.
	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			l, err := Open(ctx, path)
			if err != nil {
				return err
			}
			defer l.Close()
			return promoteLocked(ctx, l, newRecord("web", "prod", digestN(i), time.Now()))
		})
	}
	require.NoError(t, g.Wait())

	l, err := Open(ctx, path)
	require.NoError(t, err)
	defer l.Close()
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
}

func TestConcurrentUnlockedAppendsRetryOnHeadMoved(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _ := openTestLedger(t)

	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			rec := newRecord("web", "prod", digestN(i), time.Now())
			for ctx.Err() == nil {
				head, err := l.Head(ctx, "web", "prod")
				if err != nil {
					return err
				}
				err = l.Append(ctx, rec, head)
				if !errors.Is(err, ErrHeadMoved) {
					return err
				}
			}
			return ctx.Err()
		})
	}
	require.NoError(t, g.Wait())
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
}

// requireDistinctDigests asserts that every writer's record made it: no
// record was lost and none was stored twice.
func requireDistinctDigests(t *testing.T, l Ledger, n int) {
	t.Helper()
	recs, err := l.Records(context.Background(), Query{})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.Digest] = true
	}
	require.Len(t, seen, n)
	for i := range n {
		require.True(t, seen[digestN(i)], "digest of writer %d", i)
	}
}

// Environment of the helper process that TestMultiProcessAppends starts.
const (
	helperEnv       = "PROMOTE_LEDGER_TEST_HELPER"
	helperLedgerEnv = "PROMOTE_LEDGER_TEST_PATH"
	helperDigestEnv = "PROMOTE_LEDGER_TEST_DIGEST"
)

// TestHelperProcess is not a test: it is one promoter process, started by
// TestMultiProcessAppends through the test binary itself.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestMultiProcessAppends")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := Open(ctx, os.Getenv(helperLedgerEnv))
	require.NoError(t, err)
	defer l.Close()
	rec := newRecord("web", "prod", os.Getenv(helperDigestEnv), time.Now())
	require.NoError(t, promoteLocked(ctx, l, rec))
}

func TestMultiProcessAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "ledger.db")

	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				helperEnv+"=1", helperLedgerEnv+"="+path, helperDigestEnv+"="+digestN(i))
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("promoter process %d: %w\n%s", i, err, out)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	l, err := Open(ctx, path)
	require.NoError(t, err)
	defer l.Close()
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
}
