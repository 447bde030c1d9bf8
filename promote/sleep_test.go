package promote

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The append back-off ends with its context: a cancelled promotion does not
// sit out its retries.
func TestSleepCtxEndsWithItsContext(t *testing.T) {
	assert.NoError(t, sleepCtx(context.Background(), time.Millisecond))
	cause := errors.New("lease lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	start := time.Now()
	err := sleepCtx(ctx, time.Hour)
	assert.ErrorIs(t, err, cause, "the cause is what the caller sees")
	assert.Less(t, time.Since(start), time.Minute)
}
