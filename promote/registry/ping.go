package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// go-containerregistry pings a registry (GET /v2/, unauthenticated) each
// time it builds a transport, that is for every repository a process
// touches; a batch of 200 apps made 1000 pings. The answer (no auth, or
// which challenge) belongs to the host, so pingCache answers repeats from
// memory for a while. Only unauthenticated GETs of /v2/ that were answered
// 200 or 401 without a redirect are kept, and a plain HTTP registry's
// refusal of TLS (which go-containerregistry then retries over HTTP, where
// allowed) is remembered as that error.
//
// Pings of one host at the same time share one request: the first goes
// out, the others wait for its answer (Warm pings a target while the
// source is read, and the promotion's own ping then finds it under way).
type pingCache struct {
	next     http.RoundTripper
	ttl      time.Duration
	mu       sync.Mutex
	m        map[string]pingAnswer    // scheme://host
	inFlight map[string]chan struct{} // closed when that ping is answered
}

type pingAnswer struct {
	status int
	header http.Header
	err    error
	at     time.Time
}

func newPingCache(next http.RoundTripper) *pingCache {
	return &pingCache{next: next, ttl: 5 * time.Minute, m: map[string]pingAnswer{}, inFlight: map[string]chan struct{}{}}
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
	if a, ok := p.m[key]; ok && time.Since(a.at) < p.ttl {
		p.mu.Unlock()
		return a.response(r)
	}
	wait, busy := p.inFlight[key]
	if !busy {
		p.inFlight[key] = make(chan struct{})
	}
	p.mu.Unlock()
	if busy {
		select {
		case <-wait:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		p.mu.Lock()
		a, ok := p.m[key]
		p.mu.Unlock()
		if ok && time.Since(a.at) < p.ttl {
			return a.response(r)
		}
		return p.next.RoundTrip(r) // the answer was not one to keep: ask, beside the other waiters
	}
	defer func() {
		p.mu.Lock()
		close(p.inFlight[key])
		delete(p.inFlight, key)
		p.mu.Unlock()
	}()
	resp, err := p.next.RoundTrip(r)
	switch {
	case err != nil && errors.Is(err, http.ErrSchemeMismatch):
		p.store(key, pingAnswer{err: err, at: time.Now()})
	case err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized):
		p.store(key, pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), at: time.Now()})
	}
	return resp, err
}

// response is a kept answer, as a fresh response to r.
func (a pingAnswer) response(r *http.Request) (*http.Response, error) {
	if a.err != nil {
		return nil, a.err
	}
	return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Header: a.header.Clone(),
		Body: http.NoBody, Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

func (p *pingCache) store(key string, a pingAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[key] = a
}

// Warm pings the registry of repo in the background, so that the first
// request a promotion makes of it later finds the answer (whether it
// speaks TLS, which authentication it asks for) in memory instead of
// waiting a round trip or two for it. Failures are left for that request
// to meet and report.
func (c *Client) Warm(ctx context.Context, repo name.Repository) {
	go func() { _, _ = transport.Ping(ctx, repo.Registry, c.transport) }()
}
