package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// waitLost waits for ctx to end and returns its cause, which must say the
// lease was lost; the bound only catches a lease that is never lost.
func waitLost(t *testing.T, ctx context.Context) *LeaseLostError {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the watched context was not cancelled")
	}
	cause := context.Cause(ctx)
	require.ErrorIs(t, cause, ErrLeaseLost)
	assert.ErrorIs(t, cause, errs.ErrConflict, "a lost lease is a conflict (exit 4)")
	var lost *LeaseLostError
	require.True(t, errors.As(cause, &lost))
	return lost
}

// readLease reads the lease object at key.
func readLease(t *testing.T, f *fakeS3, key string) lease {
	t.Helper()
	var ls lease
	require.NoError(t, json.Unmarshal(f.object(key), &ls))
	return ls
}

// A lease taken over by another holder is lost at the holder's next
// renewal: its watched context is cancelled with a cause naming the new
// holder, Check fails, and its release leaves the new holder's lease.
func TestS3LeaseLostToTakeoverCancelsWatch(t *testing.T) {
	l, f := openTestS3(t)
	// Long enough that a renewal (every third of it) is not late under
	// -race on a loaded machine: a late one would find the lease expired,
	// not taken over.
	l.leaseTTL = 3 * time.Second
	const key = "audit/locks/web/prod"
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	watched, stop := held.Watch(context.Background())
	defer stop()

	writeLease(f, key, "thief", time.Now().Add(time.Minute))
	lost := waitLost(t, watched)
	assert.Equal(t, "thief", lost.TakenBy)
	assert.ErrorContains(t, lost, "web in prod")
	assert.ErrorContains(t, lost, "another promoter (thief) took it over")
	assert.ErrorContains(t, lost, "run the command again")

	err = held.Check(context.Background())
	require.ErrorIs(t, err, ErrLeaseLost, "Check after the loss")
	held.Release()
	ls := readLease(t, f, key)
	assert.Equal(t, "thief", ls.Holder, "the loser's release left the thief's lease")
	assert.False(t, ls.Released)
}

// Check proves the lease with a round trip, between renewals: a success
// extends the lease; a takeover is found at once, and the watched context
// follows.
func TestS3LeaseCheckFindsTakeoverAtOnce(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	l.leaseTTL = time.Hour // no renewal runs during the test
	const key = "audit/locks/web/prod"
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	defer held.Release()
	watched, stop := held.Watch(ctx)
	defer stop()

	before := readLease(t, f, key).Expires
	require.NoError(t, held.Check(ctx))
	assert.True(t, readLease(t, f, key).Expires.After(before), "Check renewed the lease")

	writeLease(f, key, "thief", time.Now().Add(time.Minute))
	err = held.Check(ctx)
	require.ErrorIs(t, err, ErrLeaseLost, "Check sees the takeover without waiting for a renewal")
	assert.ErrorContains(t, err, "thief")
	assert.Equal(t, "thief", waitLost(t, watched).TakenBy)
}

// A renewal that reached S3 but whose answer was lost leaves the holder's
// ETag stale: the next renewal finds its own holder in the object and keeps
// the lease instead of counting it lost.
func TestS3LeaseSurvivesLostRenewalAnswer(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	l.leaseTTL = time.Hour
	const key = "audit/locks/web/prod"
	held, err := l.Lock(ctx, "web", "prod")
	require.NoError(t, err)
	watched, stop := held.Watch(ctx)
	defer stop()

	mine := readLease(t, f, key)
	writeLease(f, key, mine.Holder, mine.Expires.Add(time.Second)) // new content, new ETag, same holder
	require.NoError(t, held.Check(ctx))
	assert.NoError(t, watched.Err())
	assert.Equal(t, mine.Holder, readLease(t, f, key).Holder)
	held.Release()
	assert.True(t, readLease(t, f, key).Released, "the kept lease is released normally")
}

// failingLockPuts fails every PUT of a lock object while on is set, as a
// network that no longer reaches S3 would.
type failingLockPuts struct{ on atomic.Bool }

func (f *failingLockPuts) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.on.Load() && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/locks/") {
		return nil, errors.New("injected: S3 unreachable")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Renewals that keep failing lose the lease when its own expiry, counted
// from the start of the last renewal that succeeded, is near: never after
// the expiry written in the object (from then on a waiter may take it over),
// and not before it less the margin kept for clocks.
func TestS3LeaseLostWhenRenewalsFailUntilExpiry(t *testing.T) {
	f := newFakeS3(t)
	fail := &failingLockPuts{}
	client := s3.New(f.client().Options(), func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: fail} })
	l := newS3Ledger(client, testBucket, "audit")
	l.leaseTTL = 3 * time.Second // a margin (TTL/10) that a loaded CI machine's scheduling fits in
	const key = "audit/locks/web/prod"
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	watched, stop := held.Watch(context.Background())
	defer stop()

	fail.on.Store(true)
	lost := waitLost(t, watched)
	expires := readLease(t, f, key).Expires // written by the last renewal that succeeded
	assert.True(t, lost.Expired)
	assert.Empty(t, lost.TakenBy)
	// The SDK retries the injected failure within the renewal's deadline, so
	// the last error is the failure itself or the deadline it ran out of.
	assert.True(t, strings.Contains(lost.LastErr, "injected: S3 unreachable") || strings.Contains(lost.LastErr, "deadline exceeded"),
		"the last renewal's failure is named: %s", lost.LastErr)
	assert.ErrorContains(t, lost, "could not be renewed")
	assert.False(t, lost.At.After(expires), "lost at %s, after the lease's expiry %s", lost.At, expires)
	assert.False(t, lost.At.Before(expires.Add(-l.leaseMargin()-5*time.Millisecond)),
		"lost at %s, before the lease's expiry %s less its margin", lost.At, expires)
	require.ErrorIs(t, held.Check(context.Background()), ErrLeaseLost)

	fail.on.Store(false)
	held.Release()
	assert.True(t, leaseFree(f.object(key)), "no one took it: the release frees it")
}

// A transient failure of Check is not a loss: the lease is still held
// until its expiry, and the next Check proves it again.
func TestS3LeaseCheckFailureIsNotALoss(t *testing.T) {
	f := newFakeS3(t)
	fail := &failingLockPuts{}
	client := s3.New(f.client().Options(), func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: fail} })
	l := newS3Ledger(client, testBucket, "audit")
	l.leaseTTL = time.Hour
	held, err := l.Lock(context.Background(), "web", "prod")
	require.NoError(t, err)
	defer held.Release()

	fail.on.Store(true)
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = held.Check(short)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrLeaseLost)
	fail.on.Store(false)
	require.NoError(t, held.Check(context.Background()))
}
