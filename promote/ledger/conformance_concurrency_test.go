package ledger

// The conformance suite, part three: concurrent promoters, as goroutines
// and as processes, on every backend.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

// Each promoter opens the store itself, as separate processes or runners
// would (for SQLite the file does not exist yet: creating it and its schema
// must survive the race too), locks the chain, reads its head and appends.
func TestConcurrentLockedAppendsFromSeparateLedgers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var g errgroup.Group
		for i := range writers {
			g.Go(func() error {
				l, err := s.dial(ctx)
				if err != nil {
					return err
				}
				defer l.Close()
				return promoteLocked(ctx, l, newRecord("web", "prod", digestN(i), time.Now()))
			})
		}
		require.NoError(t, g.Wait())
		l := s.open()
		requireLinearChain(t, l, "web", "prod", writers)
		requireDistinctDigests(t, l, writers)
	})
}

// Without the lock, the compare-and-swap alone keeps the chain linear:
// every loser gets ErrHeadMoved, re-reads and retries. Half the promoters
// share one Ledger, half have one of their own.
func TestConcurrentUnlockedAppendsRetryOnHeadMoved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared := s.open()
		var g errgroup.Group
		for i := range writers {
			l := shared
			if i%2 == 1 {
				l = s.open()
			}
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
		requireLinearChain(t, shared, "web", "prod", writers)
		requireDistinctDigests(t, shared, writers)
	})
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

// Eight promoter processes (the test binary's TestHelperProcess) open the
// store through Open, with what they need in their environment, and append
// at once.
func TestMultiProcessAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var g errgroup.Group
		for i := range writers {
			g.Go(func() error {
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
				cmd.Env = append(append(os.Environ(), s.env...),
					helperEnv+"=1", helperLedgerEnv+"="+s.location, helperDigestEnv+"="+digestN(i))
				if out, err := cmd.CombinedOutput(); err != nil {
					return fmt.Errorf("promoter process %d: %w\n%s", i, err, out)
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
		l := s.open()
		requireLinearChain(t, l, "web", "prod", writers)
		requireDistinctDigests(t, l, writers)
	})
}
