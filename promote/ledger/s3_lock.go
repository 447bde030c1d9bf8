package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// lease is the content of a lock object locks/<app>/<env>.
type lease struct {
	Holder   string    `json:"holder"` // host, pid and a random id of the holding Lock call
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
}

// leaseFree reports whether the lease object data may be taken: released,
// expired, or not a lease at all.
func leaseFree(data []byte) bool {
	var ls lease
	return json.Unmarshal(data, &ls) != nil || ls.Released || time.Now().After(ls.Expires)
}

// Lock takes the writer lease of app in env. S3 has no locks, so the lease is
// an object holding its holder and expiry (leaseTTL ahead): created with
// If-None-Match: * where there is none, and otherwise taken over, when it is
// released or expired (its holder died), by overwriting it with If-Match on
// the ETag just read, so two waiters cannot both take it. While held it is
// renewed every leaseTTL/3 with If-Match on its own ETag (s3_lease.go); a
// renewal that finds another holder, or renewals failing until the lease's
// own expiry, lose it: Watch contexts are cancelled, Check fails. Release
// marks it released, again with If-Match, so a holder that outlived its
// lease never frees its successor's. The lease is never deleted: on a versioned bucket
// a delete leaves a delete marker, on which some S3-compatible servers
// (versitygw) refuse If-None-Match: *, and conditional DELETE is the less
// widely implemented condition. Lock polls until it holds the lease or ctx
// is done (an error wrapping ctx.Err()). As with the SQLite lock, the lease
// is advice between well-behaved writers: Append's compare-and-swap keeps
// the chain linear even if a holder outlives its lease. Expiry compares the
// holder's clock with the waiter's: runners' clocks must agree within a
// fraction of leaseTTL.
func (l *s3Ledger) Lock(ctx context.Context, app, env string) (Lease, error) {
	if app == "" || env == "" {
		return nil, fmt.Errorf("locking ledger %s: app (%q) and env (%q) must not be empty", l, app, env)
	}
	if err := l.writable("locking", l); err != nil {
		return nil, err
	}
	key := l.lockKey(app, env)
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), newID())
	etag, start, err := l.acquire(ctx, key, holder)
	if err != nil {
		return nil, fmt.Errorf("locking %s in %s (ledger %s): %w", app, env, l, err)
	}
	h := &s3Lease{l: l, app: app, env: env, key: key, holder: holder, etag: etag}
	return h.hold(start), nil
}

// acquire creates or takes over the lease at key and returns its ETag and
// the time taken just before the winning PUT: the lease lasts leaseTTL
// from then.
func (l *s3Ledger) acquire(ctx context.Context, key, holder string) (string, time.Time, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", time.Time{}, err
		}
		data, curTag, err := l.get(ctx, key)
		var cond putCond
		switch {
		case errors.Is(err, errNoObject):
			cond = putCond{create: true}
		case err != nil:
			return "", time.Time{}, l.leaseError(ctx, key, err)
		case leaseFree(data):
			cond = putCond{ifMatch: curTag}
		}
		if cond.create || cond.ifMatch != "" {
			start := time.Now()
			etag, err := l.put(ctx, key, l.leaseBody(holder, start.Add(l.leaseTTL), false), cond)
			if err == nil {
				return etag, start, nil
			}
			if !errors.Is(err, errCondition) && !errors.Is(err, errNoObject) {
				return "", time.Time{}, l.leaseError(ctx, key, err)
			}
			// Another waiter was faster.
		}
		wait := l.poll + rand.N(l.poll/2+1) // jitter spreads the waiters' polls
		select {
		case <-ctx.Done():
			return "", time.Time{}, l.leaseError(ctx, key, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// leaseError is err, or the end of ctx if that is what stopped the wait.
func (l *s3Ledger) leaseError(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for lease %s: %w", l.url(key), ctx.Err())
	}
	return err
}

// leaseBody is the content of a lease object held by holder until expires.
func (l *s3Ledger) leaseBody(holder string, expires time.Time, released bool) []byte {
	b, _ := json.Marshal(lease{Holder: holder, Expires: expires.UTC(), Released: released})
	return b
}
