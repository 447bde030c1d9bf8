// Package faults is an HTTP middleware that makes a registry misbehave on
// purpose, for tests: error statuses (with Retry-After), connections reset
// before an answer, in the middle of a response body or in the middle of
// an upload. TCP-level faults (slow links, connections cut after N bytes,
// a registry gone) come from toxiproxy in front of the server.
package faults

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Kind is what goes wrong with one request.
type Kind int

// The kinds of fault.
const (
	Pass             Kind = iota
	Status                // answer Status (and Retry-After) instead of the registry
	ResetBefore           // reset the connection before answering
	ResetMidResponse      // send After bytes of the registry's answer, then reset
	ResetMidUpload        // read After bytes of the request body, then reset
)

// Fault is the injector's decision for one request.
type Fault struct {
	Kind       Kind
	Status     int
	RetryAfter string
	After      int64
}

// Injector wraps a registry handler and injects the faults its rule decides.
type Injector struct {
	next     http.Handler
	mu       sync.Mutex
	rule     func(*http.Request) Fault
	injected int
}

// New wraps next; until Set is called every request passes.
func New(next http.Handler) *Injector { return &Injector{next: next} }

// Set replaces the rule (nil: every request passes) and zeroes the count.
func (i *Injector) Set(rule func(*http.Request) Fault) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rule, i.injected = rule, 0
}

// Injected is how many faults were injected since the last Set.
func (i *Injector) Injected() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.injected
}

func (i *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	f := Fault{}
	if i.rule != nil {
		f = i.rule(r)
	}
	if f.Kind != Pass {
		i.injected++
	}
	i.mu.Unlock()
	switch f.Kind {
	case Status:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}`)
	case ResetBefore:
		Reset(w)
	case ResetMidUpload:
		_, _ = io.CopyN(io.Discard, r.Body, f.After)
		Reset(w)
	case ResetMidResponse:
		cw := &cutWriter{ResponseWriter: w, left: f.After}
		i.next.ServeHTTP(cw, r)
	default:
		i.next.ServeHTTP(w, r)
	}
}

// Reset breaks the request's connection with a TCP RST.
func Reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// cutWriter passes left bytes of the body, then resets the connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.cut {
		return 0, io.ErrClosedPipe
	}
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	Reset(c.ResponseWriter)
	c.cut = true
	return n, io.ErrClosedPipe
}

// Request classes, for rules.

// IsBlobGet reports a GET or HEAD of a blob.
func IsBlobGet(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.URL.Path, "/blobs/sha256:")
}

// IsManifestGet reports a GET or HEAD of a manifest.
func IsManifestGet(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.URL.Path, "/manifests/")
}

// IsUpload reports a request of a blob upload session (POST, PATCH, PUT).
func IsUpload(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/uploads/") }

// IsManifestPut reports a manifest PUT, by digest or by tag.
func IsManifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
}
