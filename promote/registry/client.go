// Package registry is promote's access to OCI registries, built on
// go-containerregistry. It moves manifests as raw bytes (never
// re-serialised), streams blobs from registry to registry and knows no
// policy: what to copy is the engine's decision.
package registry

import (
	"context"
	"errors"
	"fmt"
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
	// Insecure lists registry hosts (host[:port]) reached over plain HTTP.
	// Loopback hosts (localhost, 127.0.0.1) fall back to HTTP without it.
	Insecure []string
	// Keychain resolves credentials per registry; nil means the docker
	// config and its credential helpers (authn.DefaultKeychain).
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Jobs bounds parallel blob and manifest transfers; 0 means 4.
	Jobs int
	// UserAgent is sent with every request.
	UserAgent string
}

// Client reads and writes registries. It is safe for concurrent use and
// reuses authentication across calls.
type Client struct {
	insecure map[string]bool
	jobs     int
	opts     []remote.Option
	puller   *remote.Puller
	pusher   *remote.Pusher
}

// New builds a Client. Retries live here, once per request: go-containerregistry
// retries transient failures (network errors, 408, 429, 5xx) with backoff.
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
	c.opts = []remote.Option{
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(tr),
		remote.WithUserAgent(ua),
		remote.WithJobs(jobs),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: retrySteps}),
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

// Jobs is the parallelism the client was built with.
func (c *Client) Jobs() int { return c.jobs }

func (c *Client) nameOpts(host string) []name.Option {
	o := []name.Option{name.StrictValidation}
	if c.insecure[strings.ToLower(host)] {
		o = append(o, name.Insecure)
	}
	return o
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

func ctxOpts(ctx context.Context, opts []remote.Option) []remote.Option {
	return append(append([]remote.Option{}, opts...), remote.WithContext(ctx))
}

// retrySteps is how many attempts go-containerregistry makes (WithRetryBackoff Steps).
const retrySteps = 5

// explain names a rate limit when a registry kept answering 429 through
// every retry, and otherwise returns err as it is.
func explain(host string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("registry %s still throttled the request (HTTP 429) after %d attempts with backoff: its request rate limit was exceeded (on ECR, the account's per-API rate quotas); retry later: %w",
			host, retrySteps, err)
	}
	return err
}
