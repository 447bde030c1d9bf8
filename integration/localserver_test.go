//go:build integration

package integration

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// serveLocal serves the handler handlerFor(host) makes on a free port of
// 127.0.0.1, where host is its HOST:PORT (known before the handler is, for
// one that names itself), as a plain HTTP registry every promote run of
// the suite is told is insecure. The server closes when the test ends.
func serveLocal(t *testing.T, what string, handlerFor func(host string) http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the %s: %v", what, err)
	}
	host := l.Addr().String()
	srv := httptest.NewUnstartedServer(handlerFor(host))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	markInsecure(t, host)
	t.Cleanup(srv.Close)
	return host
}
