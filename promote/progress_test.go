package promote

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingProgress keeps what a copy reported.
type recordingProgress struct {
	mu       sync.Mutex
	target   string
	blobs    []BlobStep
	bytes    map[string]int64
	done     map[string]error
	finished int
}

func (p *recordingProgress) Start(target string, blobs []BlobStep) CopyProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target, p.blobs, p.bytes, p.done = target, blobs, map[string]int64{}, map[string]error{}
	return p
}
func (p *recordingProgress) Bytes(d string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes[d] = n
}
func (p *recordingProgress) Done(d string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[d] = err
}
func (p *recordingProgress) Finish() { p.mu.Lock(); p.finished++; p.mu.Unlock() }

// A copy tells who watches each blob it moves, its bytes as they stream
// (every byte of a copied blob), and each as it ends.
func TestCopyReportsProgress(t *testing.T) {
	pr := &recordingProgress{}
	w := newWorld(t, withEngineOptions(WithProgress(pr)))
	e := w.engine()
	w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	res, err := w.promote(e, "prod", "web") // another registry: streamed, not mounted
	require.NoError(t, err)

	assert.Equal(t, w.prod("web"), pr.target)
	assert.Equal(t, 2, pr.finished, "one copy each promotion")
	require.Len(t, pr.blobs, res.Copy.BlobsCopied)
	for _, b := range pr.blobs {
		assert.Equal(t, b.Size, pr.bytes[b.Digest.String()], "every byte of %s reported", b.Digest)
		err, ok := pr.done[b.Digest.String()]
		assert.True(t, ok, "%s reported done", b.Digest)
		assert.NoError(t, err)
	}
}
