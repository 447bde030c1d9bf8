package main

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is the counting and timing TCP proxy on 127.0.0.1 in front of one
// registry, or of the toxiproxy in front of it (see front). Every tool
// talks to the registry through it, so the bytes and the requests of each
// run are counted and timed the same way for every tool.
//
// It copies in userspace with large buffers (no splice) because it must see
// the bytes: it splits each connection into HTTP/1.1 requests by turn-taking
// (see conn) and times each. Counters grow chunk by chunk.
//
// handshake models the TCP handshake on a network with a one-way latency L:
// toxiproxy delays data, not the SYN/SYN-ACK of a new connection, which on a
// real network cost a round trip before the client's first byte leaves. So
// the first bytes of each new client connection are forwarded no earlier than
// accept time + handshake (2L); later requests on the same connection are not
// delayed, so tools that reuse connections are credited as on a real network.
type proxy struct {
	ln        *net.TCPListener
	backend   string
	registry  string // "source" or "target": the timeline's registry column
	handshake time.Duration
	ids       *atomic.Int64 // connection ids, shared by the proxies of one harness
	up        atomic.Int64  // client -> registry (requests, uploads)
	down      atomic.Int64  // registry -> client (responses, downloads)
	conns     atomic.Int64  // connections accepted
	active    atomic.Int64  // connections not yet finished
	wg        sync.WaitGroup

	mu   sync.Mutex
	reqs []*request // since the last takeRequests
}

// copyBuf is the size of each direction's buffer: large, so a 1 GiB copy
// takes few system calls.
const copyBuf = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

// traffic is a snapshot of a proxy's counters.
type traffic struct {
	Up, Down, Conns int64
}

func (t traffic) sub(o traffic) traffic {
	return traffic{Up: t.Up - o.Up, Down: t.Down - o.Down, Conns: t.Conns - o.Conns}
}

func newProxy(backend, registry string, handshake time.Duration, ids *atomic.Int64) (*proxy, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("proxy for %s: %w", backend, err)
	}
	if ids == nil {
		ids = new(atomic.Int64)
	}
	p := &proxy{ln: ln, backend: backend, registry: registry, handshake: handshake, ids: ids}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the host:port tools use instead of the registry's own.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.active.Add(1)
		p.wg.Add(1)
		go p.handle(c, time.Now())
	}
}

func (p *proxy) handle(client *net.TCPConn, accepted time.Time) {
	defer p.wg.Done()
	defer p.active.Add(-1)
	defer client.Close()
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer server.Close()
	c := &conn{p: p, id: p.ids.Add(1)}
	done := make(chan struct{})
	go func() { // registry -> client
		defer close(done)
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		buf := *bp
		for {
			n, err := server.Read(buf)
			if n > 0 {
				r := c.response(buf[:n], time.Now())
				if _, werr := client.Write(buf[:n]); werr != nil {
					_ = server.Close()
					return
				}
				p.down.Add(int64(n))
				c.delivered(r, time.Now())
			}
			if err != nil {
				_ = client.CloseWrite()
				return
			}
		}
	}()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	first := true
	for {
		n, err := client.Read(buf)
		if n > 0 {
			c.request(buf[:n], time.Now())
			if first && p.handshake > 0 {
				time.Sleep(time.Until(accepted.Add(p.handshake)))
			}
			first = false
			if _, werr := server.Write(buf[:n]); werr != nil {
				_ = client.Close()
				break
			}
			p.up.Add(int64(n))
		}
		if err != nil {
			_ = server.(*net.TCPConn).CloseWrite()
			break
		}
	}
	<-done
	c.closed(time.Now())
}

// drain waits until no connection is open (the tool has exited and the
// registry has closed its side), so the counters include everything.
func (p *proxy) drain(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for p.active.Load() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("proxy %s: %d connections still open after %s", p.Addr(), p.active.Load(), timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

func (p *proxy) snapshot() traffic {
	return traffic{Up: p.up.Load(), Down: p.down.Load(), Conns: p.conns.Load()}
}

// takeRequests returns the requests seen since the last call and forgets
// them. Call it when no connection is open (after drain): the records of
// open connections are still being written.
func (p *proxy) takeRequests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]request, len(p.reqs))
	for i, r := range p.reqs {
		out[i] = *r
	}
	p.reqs = nil
	return out
}

// close stops accepting and waits for open connections to end: the registry
// behind it is stopped first, which ends them.
func (p *proxy) close() {
	_ = p.ln.Close()
	p.wg.Wait()
}

// request is one HTTP/1.1 request as the proxy saw it.
type request struct {
	Registry string
	Conn     int64
	Start    time.Time // the first client->registry byte
	End      time.Time // the last registry->client byte before the next request or the close
	Method   string
	Path     string // query values dropped: see pathShape
	Status   int    // 0 when the response's first line did not parse
	Up, Down int64  // bytes

	line, status []byte // the first bytes of each direction, until a line ends
	next         time.Time
}

// conn splits one connection into requests by turn-taking: a request
// starts with the first client->registry bytes at the start of the
// connection or after the registry has answered; it ends at the last
// registry->client byte before the next request starts or the connection
// closes. HTTP/1.1 clients do not pipeline (Go's, skopeo's, regctl's do
// not), so the turns are the requests. An interim 1xx answer (100 Continue)
// does not end a request.
type conn struct {
	p        *proxy
	id       int64
	mu       sync.Mutex
	cur      *request
	answered bool
}

const maxLine = 8 << 10

func (c *conn) request(b []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.answered && informational(c.cur.status) {
		c.cur.status, c.answered = nil, false // 100 Continue: the body follows
	}
	if c.cur == nil || c.answered {
		if prev := c.cur; prev != nil {
			prev.next = now
			if prev.End.IsZero() || prev.End.After(now) {
				prev.End = now
			}
			prev.finish()
		}
		c.cur = &request{Registry: c.p.registry, Conn: c.id, Start: now}
		c.answered = false
		c.p.mu.Lock()
		c.p.reqs = append(c.p.reqs, c.cur)
		c.p.mu.Unlock()
	}
	r := c.cur
	r.Up += int64(len(b))
	if len(r.line) < maxLine && bytes.IndexByte(r.line, '\n') < 0 {
		r.line = append(r.line, b[:min(len(b), maxLine-len(r.line))]...)
	}
}

// response notes registry->client bytes about to be forwarded; it returns
// the request they answer (nil for bytes with no request, such as a close
// notice on an idle connection).
func (c *conn) response(b []byte, now time.Time) *request {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.cur
	if r == nil {
		return nil
	}
	c.answered = true
	r.Down += int64(len(b))
	if r.End.Before(now) {
		r.End = now
	}
	if len(r.status) < 64 && bytes.IndexByte(r.status, '\n') < 0 {
		r.status = append(r.status, b[:min(len(b), 64-len(r.status))]...)
	}
	return r
}

// delivered notes that the bytes response saw have been written to the
// client: the request ends no earlier, and no later than the next one's
// start (the client had them when it sent the next request).
func (c *conn) delivered(r *request, now time.Time) {
	if r == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !r.next.IsZero() && r.next.Before(now) {
		now = r.next
	}
	if r.End.Before(now) {
		r.End = now
	}
}

func (c *conn) closed(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.cur; r != nil {
		if r.End.IsZero() {
			r.End = now
		}
		r.finish()
	}
}

// finish parses what the request kept of its first lines.
func (r *request) finish() {
	if r.line != nil {
		r.Method, r.Path = parseRequestLine(r.line)
		r.line = nil
	}
	if r.status != nil {
		r.Status = parseStatusLine(r.status)
		r.status = nil
	}
}

func informational(status []byte) bool {
	s := parseStatusLine(status)
	return s >= 100 && s < 200
}

// parseRequestLine reads "METHOD TARGET HTTP/1.1" into the method and the
// path shape.
func parseRequestLine(b []byte) (method, path string) {
	if len(b) > 2 && b[0] == 0x16 && b[1] == 0x03 { // a TLS record: handshake
		return "TLS", "ClientHello: HTTPS tried first (a plain HTTP registry answers 400)"
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[len(f)-1], "HTTP/") {
		return "?", fmt.Sprintf("(%d bytes, no request line)", len(b))
	}
	return f[0], pathShape(f[1])
}

// pathShape keeps a request target's path and the names of its query
// parameters, not their values: ?mount&from marks a cross-repository
// mount, ?digest a monolithic upload or the last PUT of a chunked one.
func pathShape(target string) string {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return path
	}
	var keys []string
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k != "" {
			keys = append(keys, k)
		}
	}
	return path + "?" + strings.Join(keys, "&")
}

// parseStatusLine reads the status code of "HTTP/1.1 200 OK".
func parseStatusLine(b []byte) int {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return n
}
