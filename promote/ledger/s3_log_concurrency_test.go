package ledger

// The S3 log under concurrent writers on one prefix: one append order for
// the whole ledger, every record logged exactly once.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// Three ledgers on one prefix, as three runners, append at once: each to a
// chain of its own without the lock, and all to one shared chain under it.
// The log holds every record once, each chain in seq order, and the newest
// checkpoint, signed by the shared key, is the root of the whole tree.
func TestS3LogConcurrentWriters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	const runners, each = 3, 6
	var g errgroup.Group
	for i := range runners {
		l := keyedS3(f, key)
		g.Go(func() error {
			for j := range each {
				rec := newRecord("web", "prod", digestN(100*i+j), time.Now())
				if err := promoteLocked(ctx, l, rec); err != nil {
					return fmt.Errorf("runner %d, shared chain: %w", i, err)
				}
			}
			return nil
		})
		g.Go(func() error {
			app := fmt.Sprintf("app-%d", i)
			for j := range each {
				head, err := l.Head(ctx, app, "test")
				if err != nil {
					return err
				}
				if err := l.Append(ctx, newRecord(app, "test", digestN(1000+100*i+j), time.Now()), head); err != nil {
					return fmt.Errorf("runner %d, own chain: %w", i, err)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	l := keyedS3(f, key)
	requireLinearChain(t, l, "web", "prod", runners*each)
	for i := range runners {
		requireLinearChain(t, l, fmt.Sprintf("app-%d", i), "test", each)
	}
	leaves := requireLog(t, l, key.Public)
	assert.Len(t, leaves, 2*runners*each)
}

// Two upgrades of a ledger written before the log at once, signing it
// for the first time; then, once writers with the key died between their
// records and their leaves, two upgrades and appends that heal the log at
// once: no record is logged twice, and the log is whole.
func TestS3LogConcurrentUpgrades(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFakeS3(t)
	seed := f.ledger("audit")
	for i := range 30 {
		appendAtHead(t, seed, newRecord(fmt.Sprintf("app-%d", i%4), "prod", digestN(i), t0.Add(timeStep(i))))
	}
	s3Raw{f}.removeLog()
	key := testKey(t, "promote.test/ledger")
	var g errgroup.Group
	for range 2 {
		l := keyedS3(f, key)
		g.Go(func() error {
			_, err := l.Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
			return err
		})
	}
	require.NoError(t, g.Wait())
	requireLog(t, keyedS3(f, key), key.Public)

	dying := f.dyingLedger("/log/leaves/")
	dying.logSigner = logSigner{key}
	for i := range 6 {
		rec := newRecord(fmt.Sprintf("app-%d", i%3), "prod", digestN(50+i), t0.Add(timeStep(50+i)))
		appendUnlogged(t, dying, rec, "not logged")
	}
	for range 2 {
		l := keyedS3(f, key)
		g.Go(func() error {
			_, err := l.Upgrade(ctx, UpgradeOptions{})
			return err
		})
	}
	for i := range 3 {
		l := keyedS3(f, key)
		g.Go(func() error {
			rec := newRecord(fmt.Sprintf("app-%d", i), "prod", digestN(100+i), t0.Add(timeStep(100+i)))
			return promoteLocked(ctx, l, rec)
		})
	}
	require.NoError(t, g.Wait())
	l := keyedS3(f, key)
	up, err := l.Upgrade(ctx, UpgradeOptions{})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 0, Size: 39, Signed: true}, up, "nothing left to log")
	requireLog(t, l, key.Public)
}
