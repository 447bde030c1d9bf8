// Package ecremu is an in-process emulator of AWS Elastic Container Registry:
// the control plane (AWS JSON 1.1, as the aws-sdk-go-v2 ECR client speaks it),
// the registry data plane (OCI distribution API v2) and a minimal STS, on one
// shared state, with ECR's error semantics. See README.md for what it models
// and what it does not.
package ecremu

import (
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultRegion          = "eu-central-1"
	DefaultAccount         = "111111111111"
	DefaultAccessKeyID     = "AKIAECREMULATOR00001"
	DefaultSecretAccessKey = "ecremu/secret/key/for/tests/only/000000"
	DefaultTokenTTL        = 12 * time.Hour
)

// Options configures a Server.
type Options struct {
	// Region the emulator plays (SigV4 scope, ARNs, repository URIs).
	Region string
	// Accounts are the registry ids hosted; the first is the default one.
	Accounts []string
	// Credentials the control plane accepts. Empty: one credential,
	// DefaultAccessKeyID/DefaultSecretAccessKey, in the first account.
	Credentials []Credential
	// TokenTTL is how long a GetAuthorizationToken token lives (ECR: 12h).
	TokenTTL time.Duration
	// BlobMounting is the initial BLOB_MOUNTING account setting of every
	// registry (ECR's default is disabled: mount requests start an upload).
	BlobMounting bool
	// SkipSignatureVerification accepts any SigV4 signature of a known key
	// (for hand-made requests); the header must still be present and parse.
	SkipSignatureVerification bool
	// Logf, if set, receives one line per request.
	Logf func(format string, args ...any)
}

// Server is one emulated ECR region holding one or more registries.
type Server struct {
	// URL is the control-plane endpoint (and the default account's registry)
	// once the server listens, e.g. "http://127.0.0.1:41234".
	URL string

	opts Options
	key  []byte // signs presigned layer URLs

	mu          sync.Mutex
	offset      time.Duration // Advance
	registries  map[string]*registry
	creds       map[string]Credential
	tokens      map[string]*token
	roles       map[string]*role
	uploads     map[string]*upload
	content     map[string][]byte // blob content by digest (visibility is per repository)
	throttle    map[string]int
	regThrottle int
	events      []Event
	endpoints   map[string]string // account -> proxy endpoint
	hosts       map[string]string // account -> host:port of its listener
	servers     []*http.Server
}

// New builds a Server that does not listen; serve Handler() yourself, or use
// Listen or Start.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if len(opts.Accounts) == 0 {
		opts.Accounts = []string{DefaultAccount}
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey, Account: opts.Accounts[0]}}
	}
	s := &Server{
		opts:       opts,
		key:        make([]byte, 32),
		registries: map[string]*registry{},
		creds:      map[string]Credential{},
		tokens:     map[string]*token{},
		roles:      map[string]*role{},
		uploads:    map[string]*upload{},
		content:    map[string][]byte{},
		throttle:   map[string]int{},
		endpoints:  map[string]string{},
		hosts:      map[string]string{},
	}
	_, _ = rand.Read(s.key)
	for _, a := range opts.Accounts {
		s.registryLocked(a)
	}
	for _, c := range opts.Credentials {
		s.AddCredential(c)
	}
	return s
}

// Region is the region the server plays.
func (s *Server) Region() string { return s.opts.Region }

// DefaultAccount is the first hosted account.
func (s *Server) DefaultAccount() string { return s.opts.Accounts[0] }

// Handler serves the control plane and the data plane. Data-plane requests go
// to the registry named by a Host header of the form
// <account>.dkr.ecr.<region>.amazonaws.com, else to the default account.
func (s *Server) Handler() http.Handler { return s.handler("") }

// RegistryHandler is Handler with the data plane bound to one account, for a
// listener that stands for that account's registry host.
func (s *Server) RegistryHandler(account string) http.Handler { return s.handler(account) }

func (s *Server) handler(bound string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Logf != nil {
			s.opts.Logf("ecremu: %s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Amz-Target"))
		}
		switch {
		case r.Header.Get("X-Amz-Target") == "" && r.URL.Path == "/" && r.Method == http.MethodPost &&
			strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			s.serveSTS(w, r)
		case r.Header.Get("X-Amz-Target") != "" || (r.URL.Path == "/" && r.Method == http.MethodPost):
			s.serveControl(w, r)
		case r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/"):
			s.serveRegistry(w, r, s.accountFor(r, bound))
		case strings.HasPrefix(r.URL.Path, layerPathPrefix):
			s.serveLayerURL(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// accountFor picks the registry a data-plane request addresses.
func (s *Server) accountFor(r *http.Request, bound string) string {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if acct, rest, ok := strings.Cut(host, ".dkr.ecr."); ok && rest == s.opts.Region+".amazonaws.com" {
		return acct
	}
	if bound != "" {
		return bound
	}
	return s.DefaultAccount()
}

// SetEndpoint sets the proxyEndpoint GetAuthorizationToken reports for an
// account (Listen and Start set it to the account's listener).
func (s *Server) SetEndpoint(account, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints[account] = strings.TrimSuffix(url, "/")
	s.hosts[account] = strings.TrimPrefix(strings.TrimPrefix(s.endpoints[account], "http://"), "https://")
}

// proxyEndpoint is an account's registry endpoint; reqHost is the Host of the
// control-plane request, used for the default account when nothing is set.
func (s *Server) proxyEndpointLocked(account, reqHost string) string {
	if e, ok := s.endpoints[account]; ok {
		return e
	}
	if account == s.DefaultAccount() && reqHost != "" {
		return "http://" + reqHost
	}
	return "https://" + registryHostName(account, s.opts.Region)
}

// RegistryHost is the host:port to put in image references for an account's
// registry (its listener), or its real ECR host name when it has none.
func (s *Server) RegistryHost(account string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hosts[account]; ok {
		return h
	}
	return registryHostName(account, s.opts.Region)
}

// now is the emulator's clock (wall clock plus Advance).
func (s *Server) now() time.Time { return time.Now().Add(s.offset).UTC() }

// Now is the emulator's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Advance moves the emulator's clock forward, to expire registry tokens,
// presigned URLs and role sessions. SigV4 request times are not checked.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// Listen starts serving on addr (e.g. "127.0.0.1:0"): the control plane and
// the default account's registry there, and each further account's registry
// on its own port of the same host, the way each ECR account has its own
// registry host. GetAuthorizationToken reports those as proxyEndpoint.
func Listen(opts Options, addr string) (*Server, error) {
	s := New(opts)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	for i, account := range s.opts.Accounts {
		a := addr
		if i > 0 {
			a = net.JoinHostPort(host, "0")
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		url := "http://" + ln.Addr().String()
		if i == 0 {
			s.URL = url
		}
		s.SetEndpoint(account, url)
		srv := &http.Server{Handler: s.RegistryHandler(account), ReadHeaderTimeout: 30 * time.Second}
		s.mu.Lock()
		s.servers = append(s.servers, srv)
		s.mu.Unlock()
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && s.opts.Logf != nil {
				s.opts.Logf("ecremu: serve %s: %v", url, err)
			}
		}()
	}
	return s, nil
}

// Start is Listen on 127.0.0.1 with a free port, closed when tb ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Listen(opts, "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("ecremu: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Close stops every listener Listen started and closes their connections
// at once (no graceful drain: a test is over when it calls Close).
func (s *Server) Close() error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}
