package regtest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Hooked is an in-process registry (referrers API on) behind a hook that
// may answer in its place: a hostile or failing registry for tests. It
// records "METHOD path Authorization" of every request.
type Hooked struct {
	Host  string
	inner http.Handler
	mu    sync.Mutex
	hook  func(w http.ResponseWriter, r *http.Request) bool // true: answered
	seen  []string
}

// NewHooked starts a Hooked registry that is closed when the test ends.
func NewHooked(t testing.TB) *Hooked {
	s := &Hooked{inner: registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		s.inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.Host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

// Set replaces the hook (nil: every request reaches the registry) and
// clears the request log.
func (s *Hooked) Set(hook func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook, s.seen = hook, nil
}

// Requests returns the requests logged since the last Set.
func (s *Hooked) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// Count is how many logged requests had method and a path containing part.
func (s *Hooked) Count(method, part string) int {
	n := 0
	for _, q := range s.Requests() {
		if m, rest, _ := strings.Cut(q, " "); m == method {
			if path, _, _ := strings.Cut(rest, " "); strings.Contains(path, part) {
				n++
			}
		}
	}
	return n
}

// Serve answers r from the registry itself, past the hook.
func (s *Hooked) Serve(w http.ResponseWriter, r *http.Request) { s.inner.ServeHTTP(w, r) }

// Honest serves r from the registry itself, as recorded bytes.
func (s *Hooked) Honest(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	return rec
}
