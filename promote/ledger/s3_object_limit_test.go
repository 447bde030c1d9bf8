package ledger

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An object larger than anything the ledger writes is refused, not read
// into memory: junk in the bucket cannot exhaust a writer.
func TestS3HugeObjectIsNotReadIntoMemory(t *testing.T) {
	l, f := openTestS3(t)
	appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
	f.put("audit/log/key", bytes.Repeat([]byte("x"), maxObject+1))
	_, _, err := l.get(context.Background(), "audit/log/key")
	require.ErrorIs(t, err, ErrLogTampered)
	assert.ErrorContains(t, err, "larger than any object the ledger writes")
}
