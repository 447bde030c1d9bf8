package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// restartAttempts bounds how often an operation whose requests carry a
// body (a blob upload session, a manifest PUT) is started again after a
// transient failure. The requests inside it are not retried themselves.
const restartAttempts = 3

// restart runs op until it succeeds, fails for good, or restartAttempts
// runs are spent. It waits n × RestartWait before the n-th restart and
// stops when ctx ends.
func (c *Client) restart(ctx context.Context, op func() error) error {
	var err error
	for n := 1; ; n++ {
		if err = op(); err == nil || n >= restartAttempts || !restartable(err) {
			return err
		}
		t := time.NewTimer(time.Duration(n) * c.restartWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// restartable reports whether a failed operation is worth starting again:
// a connection broken mid-request, a transient status (408, 429, 5xx but
// 501) answered to a request with a body, which no layer below retried, or
// an upload session opened ahead that the registry no longer knows.
// GET and HEAD failures were already retried by the transport, and a
// refused request, a host that does not resolve, a certificate that does
// not verify or a cancelled context stays failed.
func restartable(err error) bool {
	var stale *staleSession
	if errors.As(err, &stale) {
		return true
	}
	var pe *PolicyError
	var ee *ExhaustedError
	switch {
	case errors.As(err, &pe), errors.As(err, &ee), failsAtOnce(err),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		if te.Request != nil && (te.Request.Method == http.MethodGet || te.Request.Method == http.MethodHead) {
			return false
		}
		switch s := te.StatusCode; {
		case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
			return true
		case s >= 500 && s != http.StatusNotImplemented:
			return true
		}
		return false
	}
	return brokenConnection(err)
}

// brokenConnection reports whether err is a connection that failed rather
// than an answer: worth a new attempt.
func brokenConnection(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
