package ledger

// The conformance suite, part two: the writer lock of a chain, on every
// backend.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockExcludesSameChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		ctx := context.Background()
		l, other := s.open(), s.open() // other: another process or runner
		held, err := l.Lock(ctx, "web", "prod")
		require.NoError(t, err)

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
	})
}

func TestLockOtherChainsDoNotBlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		// A lock that blocked would wait until this deadline and fail.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l := s.open()
		held, err := l.Lock(ctx, "web", "prod")
		require.NoError(t, err)
		defer held.Release()
		for _, chain := range [][2]string{{"web", "test"}, {"api", "prod"}, {"webp", "rod"}, {"we", "bprod"}, {"web/prod", "x"}} {
			waiter, err := l.Lock(ctx, chain[0], chain[1])
			require.NoError(t, err, "%s in %s", chain[0], chain[1])
			waiter.Release()
		}
	})
}

func TestLockCancelled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l := s.open()
		held, err := l.Lock(context.Background(), "web", "prod")
		require.NoError(t, err)
		defer held.Release()

		// Cancelled while it waits for the holder.
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
	})
}
