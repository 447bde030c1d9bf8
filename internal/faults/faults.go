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
	"net/http/httptest"
	"strconv"
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
	Truncate              // answer the first After bytes of the registry's body, Content-Length to match
	Corrupt               // answer the registry's body with every byte changed, same length
	Stall                 // answer nothing until the client gives up or the rule is replaced
)

func (k Kind) String() string {
	switch k {
	case Pass:
		return "pass"
	case Status:
		return "status"
	case ResetBefore:
		return "reset"
	case ResetMidResponse:
		return "reset mid-response"
	case ResetMidUpload:
		return "reset mid-upload"
	case Truncate:
		return "short body"
	case Corrupt:
		return "corrupt body"
	case Stall:
		return "stall"
	}
	return "fault " + strconv.Itoa(int(k))
}

// Fault is the injector's decision for one request.
type Fault struct {
	Kind       Kind
	Status     int
	RetryAfter string
	After      int64
}

func (f Fault) String() string {
	if f.Kind == Status {
		return "HTTP " + strconv.Itoa(f.Status)
	}
	return f.Kind.String()
}

// Injector wraps a registry handler and injects the faults its rule decides.
type Injector struct {
	next     http.Handler
	mu       sync.Mutex
	rule     func(*http.Request) Fault
	injected int
	released chan struct{} // closed when the rule is replaced: stalls end
}

// New wraps next; until Set is called every request passes.
func New(next http.Handler) *Injector { return &Injector{next: next, released: make(chan struct{})} }

// Set replaces the rule (nil: every request passes) and zeroes the count.
func (i *Injector) Set(rule func(*http.Request) Fault) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rule, i.injected = rule, 0
	close(i.released)
	i.released = make(chan struct{})
}

// Injected is how many faults were injected since the last Set.
func (i *Injector) Injected() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.injected
}

func (i *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	f, released := Fault{}, i.released
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
	case Truncate, Corrupt:
		rewrite(w, r, i.next, f)
	case Stall:
		// A server notices a client gone only once the request body is read.
		select {
		case <-r.Context().Done():
		case <-released:
		}
	default:
		i.next.ServeHTTP(w, r)
	}
}

// rewrite answers r as next does, with its body truncated to f.After bytes
// or with every byte of it changed.
func rewrite(w http.ResponseWriter, r *http.Request, next http.Handler, f Fault) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if f.Kind == Truncate && int64(len(body)) > f.After {
		body = body[:f.After]
	}
	if f.Kind == Corrupt {
		body = append([]byte(nil), body...)
		for k := range body {
			body[k] ^= 0x5a
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(rec.Code)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
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

// IsBlobBody reports the request of an upload session that carries the
// blob: a PATCH (chunked), or a PUT with a body (monolithic).
func IsBlobBody(r *http.Request) bool {
	return IsUpload(r) && (r.Method == http.MethodPatch || r.Method == http.MethodPut && r.ContentLength != 0)
}

// IsUpload reports a request of a blob upload session (POST, PATCH, PUT).
func IsUpload(r *http.Request) bool { return strings.Contains(r.URL.Path, "/blobs/uploads/") }

// IsManifestPut reports a manifest PUT, by digest or by tag.
func IsManifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
}
