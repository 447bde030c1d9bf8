package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// registryStub answers like a registry would, slowly enough (2 ms) that
// every request has a duration, and reads request bodies.
func registryStub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		time.Sleep(2 * time.Millisecond)
		switch {
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/test/a/blobs/uploads/0123456789abcdef0123456789abcdef")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPut:
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNotFound)
		default:
			fmt.Fprintf(w, "%s %d %s", r.URL.Path, n, strings.Repeat("x", 300<<10)) // larger than one read
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestProxySplitsRequests(t *testing.T) {
	srv := registryStub(t)
	p, err := newProxy(strings.TrimPrefix(srv.URL, "http://"), "target", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tr := &http.Transport{MaxIdleConnsPerHost: 1, ExpectContinueTimeout: time.Second}
	client := &http.Client{Transport: tr}
	base := "http://" + p.Addr()
	do := func(method, path string, body io.Reader, hdr ...string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	big := strings.Repeat("y", 1<<20) // an upload of several reads
	do("GET", "/v2/", nil)
	do("HEAD", "/v2/test/a/blobs/sha256:abc", nil)
	do("POST", "/v2/test/a/blobs/uploads/?mount=sha256:abc&from=dev/a", nil)
	do("PATCH", "/v2/test/a/blobs/uploads/0123456789abcdef0123456789abcdef?_state=xyz", strings.NewReader(big))
	do("PUT", "/v2/test/a/blobs/uploads/0123456789abcdef0123456789abcdef?_state=xyz&digest=sha256:abc", strings.NewReader(big), "Expect", "100-continue")
	do("GET", "/v2/dev/a/blobs/sha256:abc", nil)
	tr.CloseIdleConnections()
	if err := p.drain(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	rs := p.takeRequests()
	want := []struct {
		method, path string
		status       int
	}{
		{"GET", "/v2/", 200},
		{"HEAD", "/v2/test/a/blobs/sha256:abc", 404},
		{"POST", "/v2/test/a/blobs/uploads/?mount&from", 202},
		{"PATCH", "/v2/test/a/blobs/uploads/0123456789abcdef0123456789abcdef?_state", 200},
		{"PUT", "/v2/test/a/blobs/uploads/0123456789abcdef0123456789abcdef?_state&digest", 201}, // after 100 Continue
		{"GET", "/v2/dev/a/blobs/sha256:abc", 200},
	}
	if len(rs) != len(want) {
		for _, r := range rs {
			t.Logf("%s %s %d", r.Method, r.Path, r.Status)
		}
		t.Fatalf("%d requests, want %d", len(rs), len(want))
	}
	var up, down int64
	for i, r := range rs {
		if r.Method != want[i].method || r.Path != want[i].path || r.Status != want[i].status {
			t.Errorf("request %d: %s %s %d, want %s %s %d", i, r.Method, r.Path, r.Status, want[i].method, want[i].path, want[i].status)
		}
		if r.Registry != "target" || r.Conn != rs[0].Conn {
			t.Errorf("request %d: registry %q conn %d, want target on one connection %d", i, r.Registry, r.Conn, rs[0].Conn)
		}
		if d := r.End.Sub(r.Start); d < 2*time.Millisecond {
			t.Errorf("request %d lasted %s, less than the registry took", i, d)
		}
		if i > 0 && r.Start.Before(rs[i-1].End) {
			t.Errorf("request %d starts %s before request %d ends", i, rs[i-1].End.Sub(r.Start), i-1)
		}
		up, down = up+r.Up, down+r.Down
	}
	if rs[3].Up < 1<<20 || rs[4].Up < 1<<20 || rs[5].Down < 300<<10 {
		t.Errorf("bytes: PATCH up %d, PUT up %d, GET down %d", rs[3].Up, rs[4].Up, rs[5].Down)
	}
	if s := p.snapshot(); s.Up != up || s.Down != down || s.Conns != 1 {
		t.Errorf("counters %+v, requests' bytes up %d down %d", s, up, down)
	}
	if n, chain := criticalPath(rs); n != len(rs) || len(chain) != n {
		t.Errorf("one connection's requests in turn: critical path %d, want %d", n, len(rs))
	}
}

// TestProxyHandshake: the first request of each connection waits the
// handshake; a reused connection does not.
func TestProxyHandshake(t *testing.T) {
	srv := registryStub(t)
	const hs = 60 * time.Millisecond
	ids := new(atomic.Int64)
	p, err := newProxy(strings.TrimPrefix(srv.URL, "http://"), "source", hs, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	// two connections, two requests each, written by hand so nothing is
	// dialed ahead
	for c := 0; c < 2; c++ {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		for i := 0; i < 2; i++ {
			fmt.Fprintf(conn, "HEAD /v2/x/blobs/sha256:%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		conn.Close()
	}
	if err := p.drain(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	rs := p.takeRequests()
	if len(rs) != 4 {
		t.Fatalf("%d requests, want 4", len(rs))
	}
	for i, r := range rs {
		d := r.End.Sub(r.Start)
		if first := i%2 == 0; first && d < hs || !first && d >= hs {
			t.Errorf("request %d (conn %d) lasted %s; the handshake is %s and only the first request of a connection waits it", i, r.Conn, d, hs)
		}
		if r.Status != 404 || r.Method != "HEAD" {
			t.Errorf("request %d: %s %d", i, r.Method, r.Status)
		}
	}
	if rs[0].Conn == rs[2].Conn || ids.Load() != 2 {
		t.Errorf("connections %d and %d, ids used %d", rs[0].Conn, rs[2].Conn, ids.Load())
	}
	if len(p.takeRequests()) != 0 {
		t.Error("takeRequests did not forget")
	}
}

func TestParseLines(t *testing.T) {
	if m, p := parseRequestLine([]byte("GET /v2/a/tags/list?n=10&last=b HTTP/1.1\r\nHost: x\r\n")); m != "GET" || p != "/v2/a/tags/list?n&last" {
		t.Errorf("request line: %s %s", m, p)
	}
	if m, _ := parseRequestLine([]byte{0x16, 0x03, 0x01, 0x02, 0x00}); m != "TLS" {
		t.Errorf("a TLS ClientHello: %s", m)
	}
	if m, _ := parseRequestLine([]byte("garbage")); m != "?" {
		t.Errorf("garbage: %s", m)
	}
	for line, want := range map[string]int{"HTTP/1.1 201 Created\r\n": 201, "HTTP/1.0 400 Bad Request\r\n": 400, "xyz": 0, "HTTP/1.1 100 Continue\r\n": 100} {
		if got := parseStatusLine([]byte(line)); got != want {
			t.Errorf("status of %q = %d, want %d", line, got, want)
		}
	}
}
