package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	neturl "net/url"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// refusedAttempts bounds the tries of a request whose connection is
// refused: a registry restarting comes back within them, a wrong port
// fails within a second or so instead of the whole budget.
const refusedAttempts = 3

// attempts is one GET or HEAD on its way through its retries: it decides
// each retry (check), picks the wait (backoff) and logs both.
type attempts struct {
	policy  Retry
	log     *slog.Logger
	request string // METHOD URL, without query
	start   time.Time
	n       int    // attempts made
	max     int    // attempts allowed: policy.Attempts, or refusedAttempts once refused
	cause   string // why the last attempt failed
}

// retrying returns the retrying round tripper of r: a go-retryablehttp
// client of its own, so that its decisions and logs know r's history.
func (l retryLayer) retrying(r *http.Request) http.RoundTripper {
	a := &attempts{policy: l.policy, log: l.log, request: r.Method + " " + RedactURL(r.URL), start: time.Now(), max: l.policy.Attempts}
	return &retryablehttp.RoundTripper{Client: &retryablehttp.Client{
		HTTPClient:   l.http,
		RetryWaitMin: l.policy.WaitMin,
		RetryWaitMax: l.policy.WaitMax,
		RetryMax:     l.policy.Attempts - 1,
		CheckRetry:   a.check,
		Backoff:      a.backoff,
		ErrorHandler: giveUp,
	}}
}

// check retries network errors, 408, 429 and 5xx but 501, while the
// request's budget lasts; a refused connection only refusedAttempts
// times, a host that does not resolve or a certificate that does not
// verify never.
func (a *attempts) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a.n++
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var pe *PolicyError
	var re tls.RecordHeaderError
	if errors.As(err, &pe) || errors.As(err, &re) || errors.Is(err, http.ErrSchemeMismatch) {
		return false, err // refused, or TLS spoken to a plain HTTP server (go-containerregistry then tries HTTP, where allowed)
	}
	if failsAtOnce(err) {
		return false, nil
	}
	retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	if err == nil && resp.StatusCode == http.StatusRequestTimeout {
		retry = true
	}
	if !retry {
		return false, nil
	}
	if reachKind(err) == ReachRefused {
		a.max = min(a.max, refusedAttempts)
	}
	if a.n >= a.max {
		return false, nil
	}
	a.cause = causeOf(resp, err)
	left := a.policy.Budget - time.Since(a.start)
	if wait, ok := retryAfter(resp); ok && wait > left {
		return false, nil
	}
	return left > 0, nil
}

// backoff honours Retry-After on 429 and 503 and otherwise waits an
// exponentially growing, jittered time: half fixed, half random. It logs
// each retry: the attempt that failed, why, and the wait.
func (a *attempts) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	wait, ok := retryAfter(resp)
	if !ok {
		d := lo << min(attempt, 16)
		if d <= 0 || d > hi {
			d = hi
		}
		wait = d/2 + rand.N(d/2+1)
	}
	if a.log != nil {
		a.log.Debug("registry request failed, retrying", "request", a.request,
			"attempt", fmt.Sprintf("%d of %d", a.n, a.max), "cause", a.cause, "wait", wait.Round(time.Millisecond))
	}
	return wait
}

// causeOf says in a few words why an attempt failed: the status, or the
// network error without the URL (the log line names the request).
func causeOf(resp *http.Response, err error) string {
	if err == nil {
		return resp.Status
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return RedactText(err.Error())
}
