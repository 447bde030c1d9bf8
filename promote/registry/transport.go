package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
)

// Where retries live (one layer per request, never stacked):
//
//   - GET and HEAD (manifests, blobs, tags, referrers, token requests) are
//     retried here, by go-retryablehttp: network errors, 408, 429 and 5xx
//     (not 501), honouring Retry-After, with jittered exponential backoff,
//     within a total time budget per request (attempts.go). A host that
//     does not resolve or a certificate that does not verify fails at
//     once, a refused connection after refusedAttempts quick tries. When
//     the budget or the attempts run out, the registry's last response
//     reaches the caller unchanged, so its error body ends up in the error.
//     Each retry is logged at debug level: attempt n of N, cause, wait.
//   - Requests with bodies (blob upload POST/PATCH/PUT, manifest PUT) are
//     not retried per request: their bodies are streams that must not be
//     buffered. The operation restarts instead (restart.go): a failed blob
//     upload opens a new upload session and re-reads the source.
//   - go-containerregistry's own retries are switched off (one attempt).
//   - The AWS SDK retries its own calls (ECR control plane, STS, S3 ledger);
//     those never pass through this transport.

// Retry tunes the per-request retries of GET and HEAD. Budget bounds the
// total time one request may spend retrying; a Retry-After beyond what is
// left ends the retries at once. Zero fields take the defaults.
type Retry struct {
	Attempts         int           // per request, the first included; default 8
	WaitMin, WaitMax time.Duration // backoff bounds; default 200 ms and 10 s
	Budget           time.Duration // default 60 s
	// RestartWait is the pause before an operation's first restart (it
	// grows linearly); default 250 ms.
	RestartWait time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 8
	}
	if r.WaitMin <= 0 {
		r.WaitMin = 200 * time.Millisecond
	}
	if r.WaitMax < r.WaitMin {
		r.WaitMax = max(10*time.Second, r.WaitMin)
	}
	if r.Budget <= 0 {
		r.Budget = 60 * time.Second
	}
	if r.RestartWait <= 0 {
		r.RestartWait = 250 * time.Millisecond
	}
	return r
}

// PolicyError is a request or answer promote refused: plain HTTP to a host
// not named insecure, a hostile registry's redirect, oversized manifest,
// endless referrers or lying size. It is never retried.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

// ExhaustedError is a request that failed at the network level on every
// attempt it was allowed (one, for a failure retries cannot mend);
// operations do not restart on it (that would multiply retries).
// URL has no query string (see redact.go).
type ExhaustedError struct {
	Method, URL string
	Attempts    int
	Err         error
}

func (e *ExhaustedError) Error() string {
	what := e.Method
	if e.URL != "" {
		what += " " + e.URL
	}
	if e.Attempts == 1 {
		return fmt.Sprintf("%s: %v", what, e.Err) // failed at once: nothing was retried
	}
	return fmt.Sprintf("%s failed after %d attempts: %v", what, e.Attempts, e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// schemeGuard refuses plain HTTP to every host not named insecure: TLS,
// verified, is the default everywhere, loopback included.
type schemeGuard struct {
	next     http.RoundTripper
	insecure func(host string) bool
}

func (g schemeGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !g.insecure(r.URL.Host) {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, &PolicyError{Msg: fmt.Sprintf("refusing plain HTTP to %s: registries are reached over verified TLS unless named by --insecure-registry %s", r.URL.Host, r.URL.Host)}
	}
	return g.next.RoundTrip(r)
}

// retryLayer sends GET and HEAD through go-retryablehttp, one retrying
// client per request (attempts.go), and everything else straight through.
type retryLayer struct {
	http   *http.Client
	policy Retry
	log    *slog.Logger
	next   http.RoundTripper
}

func (l retryLayer) RoundTrip(r *http.Request) (*http.Response, error) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.Body == nil || r.Body == http.NoBody) {
		return l.retrying(r).RoundTrip(r)
	}
	return l.next.RoundTrip(r)
}

// newRetryLayer builds the per-request retry layer over next; log gets a
// debug line for each retry.
func newRetryLayer(next http.RoundTripper, p Retry, log *slog.Logger) http.RoundTripper {
	return retryLayer{
		http: &http.Client{
			Transport: next,
			// Redirects go back to go-containerregistry's client, whose
			// follow-up requests come through this layer (and its guards) again.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		policy: p.withDefaults(),
		log:    log,
		next:   next,
	}
}

// retryAfter reads Retry-After (seconds or an HTTP date) of a 429 or 503.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// giveUp hands the registry's last response to the caller as it is (its
// error body becomes the error), or marks a network failure as exhausted.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return nil, pe
	}
	e := &ExhaustedError{Method: "request", Attempts: attempts, Err: err}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		e.Method, e.URL, e.Err = strings.ToUpper(ue.Op), redactRawURL(ue.URL), ue.Err
	}
	return nil, e
}
