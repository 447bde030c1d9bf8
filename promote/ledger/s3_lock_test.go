package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeLease writes a lease object directly, as a runner that then died would.
func writeLease(f *fakeS3, key, holder string, expires time.Time) {
	data, _ := json.Marshal(lease{Holder: holder, Expires: expires})
	f.put(key, data)
}

func TestS3LockTakesOverStaleLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, f := openTestS3(t)
	const key = "audit/locks/web/prod"

	// A holder that died long ago.
	writeLease(f, key, "dead-runner", time.Now().Add(-time.Minute))
	start := time.Now()
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second, "an expired lease is taken over at once")
	var cur lease
	require.NoError(t, json.Unmarshal(f.object(key), &cur))
	assert.NotEqual(t, "dead-runner", cur.Holder)
	held.Release()

	// A holder that died a moment ago: its lease is taken when it expires,
	// not before (whenever this test gets to run).
	expires := time.Now().Add(300 * time.Millisecond)
	writeLease(f, key, "just-died", expires)
	held, err = l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	assert.True(t, time.Now().After(expires), "a live lease is respected until it expires")
	held.Release()

	// Garbage in the lease object is treated as expired.
	f.put(key, []byte("not a lease"))
	held, err = l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	held.Release()
}

// A holder that outlived its lease must not free its successor's lease:
// release is a PUT with If-Match on the holder's own ETag.
func TestS3LockReleaseKeepsSuccessorsLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, f := openTestS3(t)
	const key = "audit/locks/web/prod"
	stale, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	// The holder stalls past its expiry (written here directly, which also
	// changes the lease's ETag as a renewal by anyone else would).
	writeLease(f, key, "stalled", time.Now().Add(-time.Second))

	successor := f.ledger("audit")
	held, err := successor.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	stale.Release()
	assert.False(t, leaseFree(f.object(key)), "the stale holder's release left the successor's lease")
	short, cancelShort := context.WithTimeout(ctx, blockedFor)
	defer cancelShort()
	_, err = f.ledger("audit").Lock(short, "web", "prod")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the successor still holds the lease")
	held.Release()
	assert.True(t, leaseFree(f.object(key)))
}

// A lease is renewed while held, so a long promotion keeps it: past the
// expiry it was taken with, no other runner can take it. The test waits for
// what it checks (renewals seen in the lease object, the first expiry
// passed), not for a guessed time, and the lease lives long enough (renewed
// every second, lost only after 2.7 s without a renewal) that a loaded
// machine's scheduling under -race does not lose it.
func TestS3LockRenewsLease(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	l.leaseTTL = 3 * time.Second
	const key = "audit/locks/web/prod"
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	defer held.Release()

	taken := readLease(t, f, key)
	renewed := taken
	for give := time.Now().Add(30 * time.Second); !time.Now().After(taken.Expires) || !renewed.Expires.After(taken.Expires); {
		require.True(t, time.Now().Before(give), "the lease was not renewed past the expiry it was taken with")
		time.Sleep(20 * time.Millisecond)
		renewed = readLease(t, f, key)
	}
	assert.Equal(t, taken.Holder, renewed.Holder)
	assert.False(t, renewed.Released)

	short, cancel := context.WithTimeout(ctx, blockedFor)
	defer cancel()
	_, err = f.ledger("audit").Lock(short, "web", "prod")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the renewed lease is still held")
}
