package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// leaseMargin is how long before the expiry written in its lease object a
// holder counts the lease lost: room for the runners' clocks to differ and
// for a write already on the wire when the holder stops.
func (l *s3Ledger) leaseMargin() time.Duration { return l.leaseTTL / 10 }

// s3Lease is a lease this process holds: renewed every leaseTTL/3 until
// released, and lost, for good, when a renewal or Check finds another holder
// in the object or when no renewal succeeded for leaseTTL-leaseMargin after
// the start of the last one that did (its written expiry is leaseTTL after
// that start, so the holder stops before any waiter may take over).
type s3Lease struct {
	l                     *s3Ledger
	app, env, key, holder string

	lost     context.Context // done once the lease is lost or released; cause says which
	loseWith context.CancelCauseFunc

	putMu sync.Mutex // one write of the lease object at a time: renewal, Check, release

	mu      sync.Mutex
	etag    string      // of the lease object as this holder last wrote it; "" once taken over
	until   time.Time   // the local deadline: the lease is lost if not renewed by then
	expiry  *time.Timer // fires at until
	lastErr error       // the last renewal that failed, for the message

	once       sync.Once
	stop, done chan struct{}
}

// hold starts holding h (its key, holder and the ETag it wrote), written with an
// expiry of leaseTTL after start.
func (h *s3Lease) hold(start time.Time) *s3Lease {
	h.until = start.Add(h.l.leaseTTL - h.l.leaseMargin())
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	h.lost, h.loseWith = context.WithCancelCause(context.Background())
	h.expiry = time.AfterFunc(time.Until(h.until), h.expire)
	go h.renewLoop()
	return h
}

// Watch returns a context derived from ctx that is cancelled, with the
// *LeaseLostError as its cause, when the lease is lost.
func (h *s3Lease) Watch(ctx context.Context) (context.Context, context.CancelFunc) {
	watched, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(h.lost, func() { cancel(context.Cause(h.lost)) })
	return watched, func() { stop(); cancel(context.Canceled) }
}

// Check renews the lease now, with If-Match on its ETag: a success proves
// that no one took it over and extends it by leaseTTL.
func (h *s3Lease) Check(ctx context.Context) error { return h.renewNow(ctx) }

// Release stops the renewal and marks the lease released if it is still
// this holder's; it may be called more than once.
func (h *s3Lease) Release() {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		h.putMu.Lock()
		defer h.putMu.Unlock()
		h.mu.Lock()
		h.expiry.Stop()
		etag := h.etag
		h.mu.Unlock()
		h.loseWith(errReleased) // no-op if the lease was lost before
		if etag == "" {
			return // taken over: the object is its new holder's
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		now := time.Now()
		_, _ = h.l.put(ctx, h.key, h.l.leaseBody(h.holder, now, true), putCond{ifMatch: etag})
	})
}

// renewLoop renews the lease every leaseTTL/3, sooner after a failure,
// until it is released or lost.
func (h *s3Lease) renewLoop() {
	defer close(h.done)
	next := time.NewTimer(h.l.leaseTTL / 3)
	defer next.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.lost.Done():
			return
		case <-next.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), h.l.leaseTTL/3)
		err := h.renewNow(ctx)
		cancel()
		wait := h.l.leaseTTL / 3
		if err != nil {
			wait = h.l.leaseTTL / 10
		}
		next.Reset(wait)
	}
}

// lostErr is the reason the lease is no longer held, or nil.
func (h *s3Lease) lostErr() error {
	if h.lost.Err() == nil {
		return nil
	}
	return context.Cause(h.lost)
}

// renewNow rewrites the lease with a new expiry, If-Match on its ETag. It
// returns an error matching ErrLeaseLost if the lease is lost (now or
// before), or the failure of a renewal that proved nothing either way.
func (h *s3Lease) renewNow(ctx context.Context) error {
	h.putMu.Lock()
	defer h.putMu.Unlock()
	if err := h.lostErr(); err != nil {
		return err
	}
	h.mu.Lock()
	etag, until := h.etag, h.until
	h.mu.Unlock()
	// An answer after the lease's own expiry would prove nothing.
	ctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	start := time.Now()
	newTag, err := h.l.put(ctx, h.key, h.l.leaseBody(h.holder, start.Add(h.l.leaseTTL), false), putCond{ifMatch: etag})
	if errors.Is(err, errCondition) || errors.Is(err, errNoObject) {
		newTag, err = h.recheck(ctx, start)
	}
	if err == nil {
		if !h.renewed(newTag, start) {
			h.expire() // the expiry fired while the renewal was on the wire
		}
		return h.lostErr()
	}
	if lost := h.lostErr(); lost != nil {
		return lost
	}
	h.mu.Lock()
	h.lastErr = err
	h.mu.Unlock()
	return fmt.Errorf("renewing the ledger lock of %s in %s (%s): %w", h.app, h.env, h.l.url(h.key), err)
}

// recheck reads the lease after a renewal's condition failed. Another
// holder in it, or none, means the lease was taken over. This holder in it
// means an earlier renewal landed but its answer was lost: the lease is
// renewed again on the ETag read.
func (h *s3Lease) recheck(ctx context.Context, start time.Time) (string, error) {
	data, cur, err := h.l.get(ctx, h.key)
	var ls lease
	switch {
	case errors.Is(err, errNoObject):
		return "", h.takenOver("")
	case err != nil:
		return "", err
	case json.Unmarshal(data, &ls) != nil || ls.Holder != h.holder || ls.Released:
		return "", h.takenOver(ls.Holder)
	}
	etag, err := h.l.put(ctx, h.key, h.l.leaseBody(h.holder, start.Add(h.l.leaseTTL), false), putCond{ifMatch: cur})
	if errors.Is(err, errCondition) || errors.Is(err, errNoObject) {
		return "", h.takenOver("")
	}
	return etag, err
}

// renewed records a successful renewal started at start; it returns false,
// changing nothing but the ETag, if the lease expired meanwhile.
func (h *s3Lease) renewed(etag string, start time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.etag = etag // even if lost: Release then frees a lease no one took
	if h.lost.Err() != nil || !h.expiry.Stop() {
		return false
	}
	h.until = start.Add(h.l.leaseTTL - h.l.leaseMargin())
	h.expiry.Reset(time.Until(h.until))
	return true
}

// takenOver loses the lease to holder (or to whoever deleted it).
func (h *s3Lease) takenOver(holder string) error {
	h.mu.Lock()
	h.etag = ""
	h.mu.Unlock()
	if holder == "" {
		holder = "unknown: the lease object was removed or rewritten"
	}
	h.loseWith(&LeaseLostError{App: h.app, Env: h.env, Lock: h.l.url(h.key), TakenBy: holder, At: time.Now()})
	return h.lostErr()
}

// expire loses the lease because no renewal succeeded before its deadline.
func (h *s3Lease) expire() {
	h.mu.Lock()
	last := ""
	if h.lastErr != nil {
		last = h.lastErr.Error()
	}
	h.mu.Unlock()
	h.loseWith(&LeaseLostError{App: h.app, Env: h.env, Lock: h.l.url(h.key), At: time.Now(),
		Expired: true, TTL: h.l.leaseTTL, LastErr: last})
}
