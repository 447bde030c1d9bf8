package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a counting TCP proxy on 127.0.0.1 in front of one registry. Every
// tool talks to the registry through it, so the bytes each run moves are
// counted the same way for every tool. Both directions are plain io.Copy
// between *net.TCPConn, so Linux splices and the proxy costs almost nothing;
// io.Copy returns the count when a direction ends, which is why a snapshot
// first waits for every connection to close (see drain).
type proxy struct {
	ln      *net.TCPListener
	backend string
	up      atomic.Int64 // client -> registry (requests, uploads)
	down    atomic.Int64 // registry -> client (responses, downloads)
	conns   atomic.Int64 // connections accepted
	active  atomic.Int64 // connections not yet finished
	wg      sync.WaitGroup
}

// traffic is a snapshot of a proxy's counters.
type traffic struct {
	Up, Down, Conns int64
}

func (t traffic) sub(o traffic) traffic {
	return traffic{Up: t.Up - o.Up, Down: t.Down - o.Down, Conns: t.Conns - o.Conns}
}

func newProxy(backend string) (*proxy, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("proxy for %s: %w", backend, err)
	}
	p := &proxy{ln: ln, backend: backend}
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
		go p.handle(c)
	}
}

func (p *proxy) handle(client *net.TCPConn) {
	defer p.wg.Done()
	defer p.active.Add(-1)
	defer client.Close()
	conn, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	server := conn.(*net.TCPConn)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		n, _ := io.Copy(client, server)
		p.down.Add(n)
		_ = client.CloseWrite()
		close(done)
	}()
	n, _ := io.Copy(server, client)
	p.up.Add(n)
	_ = server.CloseWrite()
	<-done
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

// close stops accepting and waits for open connections to end: the registry
// behind it is stopped first, which ends them.
func (p *proxy) close() {
	_ = p.ln.Close()
	p.wg.Wait()
}
