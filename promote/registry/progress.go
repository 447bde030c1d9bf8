package registry

import (
	"context"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type progressKey struct{}

// WithProgress returns ctx carrying report, which the client calls as it
// streams a blob from its source: with the blob's digest and the bytes
// read so far in the current attempt (an upload restarted after a failure
// counts again from 0). A mount the registry makes itself reports nothing.
func WithProgress(ctx context.Context, report func(d v1.Hash, done int64)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// counted wraps rc, the stream of blob d, to report its progress, if ctx
// asks for it.
func counted(ctx context.Context, d v1.Hash, rc io.ReadCloser) io.ReadCloser {
	report, _ := ctx.Value(progressKey{}).(func(v1.Hash, int64))
	if report == nil {
		return rc
	}
	return &countingReader{ReadCloser: rc, d: d, report: report}
}

type countingReader struct {
	io.ReadCloser
	d      v1.Hash
	n      int64
	report func(v1.Hash, int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.report(c.d, c.n)
	}
	return n, err
}
