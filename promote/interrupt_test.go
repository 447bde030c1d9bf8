package promote

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// stallAfter lets n blob copies finish, then holds the next until its
// context ends, and signals stalled when it does.
type stallAfter struct {
	writer
	mu      sync.Mutex
	n       int
	stalled chan struct{}
	once    sync.Once
}

func (s *stallAfter) CopyBlob(ctx context.Context, src, dst name.Repository, desc v1.Descriptor) error {
	if err := s.hold(ctx); err != nil {
		return err
	}
	return s.writer.CopyBlob(ctx, src, dst, desc)
}

// PutBlob is a config sent from memory: held like a copy.
func (s *stallAfter) PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error) {
	if err := s.hold(ctx); err != nil {
		return v1.Descriptor{}, err
	}
	return s.writer.PutBlob(ctx, repo, mt, data)
}

func (s *stallAfter) hold(ctx context.Context) error {
	s.mu.Lock()
	hold := s.n <= 0
	s.n--
	s.mu.Unlock()
	if hold {
		s.once.Do(func() { close(s.stalled) })
		<-ctx.Done()
		return ctx.Err() // as an HTTP client does: the cause is not in it
	}
	return nil
}

// A promotion a signal stops says how far it really got: the blobs that
// finished of those planned, nothing tagged or recorded.
func TestInterruptedPromotionSaysWhatItDid(t *testing.T) {
	w := newWorld(t, withFakeRegistry(), withJobs(1))
	d := w.fake.seed(fakeDev, regtest.Image(t, 3, regtest.Labels("1.0.0"), "1000"))
	w.fake.seedTag(fakeDev, "1.0.0", d.Digest)
	e := w.engine()
	stall := &stallAfter{writer: e.wr, n: 1, stalled: make(chan struct{})}
	e.wr = stall

	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { <-stall.stalled; cancel(&errs.Interrupt{Signal: syscall.SIGINT}) }()
	res, err := e.Promote(ctx, Request{Env: "test", Ref: w.ref("app:1.0.0")})
	var ie *InterruptedError
	require.True(t, errors.As(err, &ie), "%v", err)
	var sig *errs.Interrupt
	require.ErrorAs(t, err, &sig)
	assert.Equal(t, 130, sig.Code())
	assert.Equal(t, "copy", ie.Phase)
	assert.Equal(t, 1, res.Copy.BlobsCopied, "only the finished blob counts")
	assert.Contains(t, err.Error(), "interrupted (interrupt) while promoting app to test: stopped during the copy with 1 of 4 blobs confirmed in the target")
	assert.Contains(t, err.Error(), "nothing tagged or recorded; run the same command again to finish")
	for _, wr := range w.fake.written() {
		assert.NotContains(t, wr, "tag ")
		assert.NotContains(t, wr, "record ")
	}
	assert.Empty(t, w.records(ledger.Query{}))
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 400 << 20: "400.0 MiB", 3 << 30: "3.0 GiB", 5 << 40: "5.0 TiB"} {
		assert.Equal(t, want, HumanBytes(n), n)
	}
}
