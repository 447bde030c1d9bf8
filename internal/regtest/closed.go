package regtest

import (
	"net"
	"testing"
)

// ClosedPort returns a loopback host:port nothing listens on: bound, then
// closed, so a connection to it is refused.
func ClosedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("closing %s: %v", addr, err)
	}
	return addr
}
