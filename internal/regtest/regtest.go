// Package regtest starts in-process OCI registries for tests and builds the
// images they push: single-platform images with labels and a user,
// multi-platform indexes, cosign-style signatures and OCI 1.1 referrers.
package regtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is an in-process registry on 127.0.0.1 with a free port.
type Registry struct {
	Host string // 127.0.0.1:port
	srv  *httptest.Server
	mu   sync.Mutex
	rule func(r *http.Request) int
	log  []string
}

// Option configures a Registry.
type Option func(*options)

type options struct{ referrers bool }

// WithoutReferrersAPI makes the registry answer 404 to the referrers API,
// as distribution 2.8 does, so clients use the tag schema.
func WithoutReferrersAPI() Option { return func(o *options) { o.referrers = false } }

// New starts a registry that is closed when the test ends.
func New(t testing.TB, opts ...Option) *Registry {
	o := options{referrers: true}
	for _, f := range opts {
		f(&o)
	}
	r := &Registry{}
	h := registry.New(registry.Logger(discard), registry.WithReferrersSupport(o.referrers))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		rule := r.rule
		r.log = append(r.log, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		if rule != nil {
			if code := rule(req); code != 0 {
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}`, code)
				return
			}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// Fail makes every request for which rule returns a non-zero status fail
// with that status; nil clears it.
func (r *Registry) Fail(rule func(req *http.Request) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rule = rule
}

// Requests returns "METHOD /path" of every request served so far and clears the log.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// Writes returns the PUT, POST and PATCH requests among reqs.
func Writes(reqs []string) []string {
	var out []string
	for _, q := range reqs {
		if strings.HasPrefix(q, "PUT ") || strings.HasPrefix(q, "POST ") || strings.HasPrefix(q, "PATCH ") || strings.HasPrefix(q, "DELETE ") {
			out = append(out, q)
		}
	}
	return out
}

// IsTagPut reports whether req writes a manifest under a tag (not a digest).
func IsTagPut(req *http.Request) bool {
	if req.Method != http.MethodPut {
		return false
	}
	i := strings.LastIndex(req.URL.Path, "/manifests/")
	return i >= 0 && !strings.HasPrefix(req.URL.Path[i+len("/manifests/"):], "sha256:")
}
