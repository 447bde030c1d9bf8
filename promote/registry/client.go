// Package registry is promote's access to OCI registries, built on
// go-containerregistry. It moves manifests as raw bytes (never
// re-serialised), streams blobs from registry to registry and knows no
// policy: what to copy is the engine's decision.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/promote-dev/promote/errs"
)

// Options configure a Client.
type Options struct {
	// Insecure lists registry hosts that may be reached over plain HTTP:
	// host:port for one port, or a host alone for every port of it. Every
	// other host is reached over verified TLS only, loopback included.
	Insecure []string
	// Keychain resolves credentials per registry; nil means the docker
	// config and its credential helpers (authn.DefaultKeychain).
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Jobs bounds the blobs streamed at once (small requests without a
	// body run up to four times as many: Lookups); 0 means 4.
	Jobs int
	// UserAgent is sent with every request.
	UserAgent string
	// Retry tunes the retries of GET and HEAD requests.
	Retry Retry
	// Logger gets a debug line for each retry (attempt n of N, cause,
	// wait); nil means silent.
	Logger *slog.Logger
}

// Client reads and writes registries. It is safe for concurrent use and
// reuses authentication across calls.
type Client struct {
	insecure    map[string]bool
	jobs        int
	restartWait time.Duration
	keychain    authn.Keychain
	transport   http.RoundTripper // the chain every request takes
	pulls       pullers
	pushes      pushers
	referrers   referrerModes
	opts        []remote.Option
	puller      *remote.Puller
	pusher      *remote.Pusher
}

// New builds a Client. Retries live in its transport, once per request
// (see transport.go); go-containerregistry's own retries are off.
func New(o Options) (*Client, error) {
	if o.Jobs < 0 {
		return nil, fmt.Errorf("registry: jobs must be positive, got %d", o.Jobs)
	}
	jobs := o.Jobs
	if jobs == 0 {
		jobs = 4
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	tr := o.Transport
	if tr == nil {
		tr = remote.DefaultTransport
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "promote"
	}
	c := &Client{insecure: map[string]bool{}, jobs: jobs}
	for _, h := range o.Insecure {
		c.insecure[strings.ToLower(h)] = true
	}
	c.restartWait = o.Retry.withDefaults().RestartWait
	tr = newPingCache(Guard(newRetryLayer(schemeGuard{next: tr, insecure: c.isInsecure}, o.Retry, o.Logger)))
	c.keychain, c.transport = kc, tr
	c.opts = []remote.Option{
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(tr),
		remote.WithUserAgent(ua),
		remote.WithJobs(jobs),
		// One attempt: the transport retries GET and HEAD, restart.go the rest.
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryPredicate(func(error) bool { return false }),
	}
	var err error
	if c.puller, err = remote.NewPuller(c.opts...); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	if c.pusher, err = remote.NewPusher(c.opts...); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return c, nil
}

// Jobs is the parallelism the client was built with: blob transfers at once.
func (c *Client) Jobs() int { return c.jobs }

// Lookups is how many small requests without a body (manifests, referrer
// lists, configs, existence checks) a caller may have in flight at once:
// four per job, at most 64. Over a network each costs a round trip, not
// bandwidth, so they go out together rather than jobs at a time.
func (c *Client) Lookups() int { return min(4*c.jobs, 64) }

func (c *Client) nameOpts(host string) []name.Option {
	o := []name.Option{name.StrictValidation}
	if c.isInsecure(host) {
		o = append(o, name.Insecure)
	}
	return o
}

// isInsecure reports whether host (host[:port]) was named insecure, by
// itself or by its host name alone.
func (c *Client) isInsecure(host string) bool {
	host = strings.ToLower(host)
	if c.insecure[host] {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return c.insecure[h] || c.insecure["["+h+"]"]
	}
	return false
}

func hostOf(s string) string {
	if i := strings.IndexByte(s, '/'); i > 0 {
		return s[:i]
	}
	return s
}

// Repository parses a repository name such as registry.example.com/test/app.
func (c *Client) Repository(s string) (name.Repository, error) {
	r, err := name.NewRepository(s, c.nameOpts(hostOf(s))...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: repository %q: %v", errs.ErrUsage, s, err)
	}
	return r, nil
}

// Tag returns repo:tag, validating the tag.
func (c *Client) Tag(repo name.Repository, tag string) (name.Tag, error) {
	t, err := name.NewTag(repo.Name()+":"+tag, c.nameOpts(repo.RegistryStr())...)
	if err != nil {
		return name.Tag{}, fmt.Errorf("%w: tag %q: %v", errs.ErrUsage, tag, err)
	}
	return t, nil
}

// IsNotFound reports whether err is a registry 404 (missing manifest, blob or repository).
func IsNotFound(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return true
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode, transport.NameUnknownErrorCode:
				return true
			}
		}
	}
	return false
}

// explain names a rate limit when a registry kept answering 429 through
// every retry, and otherwise returns err as it is.
func explain(host string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("registry %s still throttled the request (HTTP 429) after retries with backoff: its request rate limit was exceeded (on ECR, the account's per-API rate quotas); retry later: %w",
			host, err)
	}
	return err
}
