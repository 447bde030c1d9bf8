package promote

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
)

// A fleet: each app stands alone, results come in the order given, and the
// batch's error is its most serious failure (a registry error over a
// rejection).
func TestPromoteAllReportsEachAndTheWorst(t *testing.T) {
	w := newWorld(t)
	good := w.push("web", "1.0", "1.0")
	regtest.Push(t, w.dev("root")+":1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "")) // nonroot says no
	items, err := w.engine().PromoteAll(context.Background(), "test", []string{"web:1.0", "root:1.0", "gone:1.0"}, 2, Request{})
	var be *BatchError
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Equal(t, 2, be.Failed)
	assert.Equal(t, 3, be.Total)
	assert.ErrorIs(t, be.Worst, errs.ErrNotFound, "the missing tag (exit 1) outranks the rejection (exit 3)")
	require.Len(t, items, 3)
	assert.Equal(t, []string{"web:1.0", "root:1.0", "gone:1.0"}, []string{items[0].Source, items[1].Source, items[2].Source})
	assert.NoError(t, items[0].Err)
	assert.Equal(t, good, w.digestOf(w.test("web")+":1.0"))
	assert.ErrorIs(t, items[1].Err, errs.ErrGateRejected)

	items, err = w.engine().PromoteAll(context.Background(), "test", []string{"web:1.0", "web@sha256:" + good.Hex}, 2, Request{})
	assert.Nil(t, items, "nothing runs")
	assert.ErrorIs(t, err, errs.ErrUsage)
	assert.ErrorContains(t, err, "name the same app web")
	_, err = w.engine().PromoteAll(context.Background(), "test", []string{"web:1.0", "Bad App"}, 2, Request{})
	assert.ErrorContains(t, err, `APP "Bad App"`)
}
