package registry

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// go-containerregistry pings a registry (GET /v2/, unauthenticated) each
// time it builds a transport, that is for every repository a process
// touches; a batch of 200 apps made 1000 pings. The answer (no auth, or
// which challenge) belongs to the host, so pingCache answers repeats from
// memory for a while. Only unauthenticated GETs of /v2/ that were answered
// 200 or 401 without a redirect are kept, and a plain HTTP registry's
// refusal of TLS (which go-containerregistry then retries over HTTP, where
// allowed) is remembered as that error.
type pingCache struct {
	next http.RoundTripper
	ttl  time.Duration
	mu   sync.Mutex
	m    map[string]pingAnswer // scheme://host
}

type pingAnswer struct {
	status int
	header http.Header
	err    error
	at     time.Time
}

func newPingCache(next http.RoundTripper) *pingCache {
	return &pingCache{next: next, ttl: 5 * time.Minute, m: map[string]pingAnswer{}}
}

func isPing(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == "/v2/" && r.URL.RawQuery == "" &&
		r.Header.Get("Authorization") == "" && r.Response == nil
}

func (p *pingCache) RoundTrip(r *http.Request) (*http.Response, error) {
	if !isPing(r) {
		return p.next.RoundTrip(r)
	}
	key := r.URL.Scheme + "://" + strings.ToLower(r.URL.Host)
	p.mu.Lock()
	a, ok := p.m[key]
	p.mu.Unlock()
	if ok && time.Since(a.at) < p.ttl {
		if a.err != nil {
			return nil, a.err
		}
		return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Header: a.header.Clone(),
			Body: http.NoBody, Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
	}
	resp, err := p.next.RoundTrip(r)
	switch {
	case err != nil && errors.Is(err, http.ErrSchemeMismatch):
		p.store(key, pingAnswer{err: err, at: time.Now()})
	case err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized):
		p.store(key, pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), at: time.Now()})
	}
	return resp, err
}

func (p *pingCache) store(key string, a pingAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[key] = a
}
