package promote

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// The incident path: a digest as history prints it, a dry run first, and
// a rollback retried by a second person.
func TestRollbackByShortDigestDryRunThenRetried(t *testing.T) {
	w := newWorld(t)
	w.env("test").PointerTag = "current"
	e := w.engine()
	ctx := context.Background()
	d1 := w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	d2 := w.push("web", "2.0", "2.0")
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	short := d1.String()[:len("sha256:")+12] // as history prints it

	w.a.Requests()
	dry, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: short, DryRun: true})
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Equal(t, d1.String(), dry.Digest)
	assert.Equal(t, []string{"1.0"}, dry.Tags)
	assert.Equal(t, d2.String(), dry.Previous)
	assert.Equal(t, w.test("web")+":current", dry.Pointer)
	assert.Nil(t, dry.Record)
	assert.Empty(t, regtest.Writes(w.a.Requests()), "a dry run writes nothing")
	assert.Equal(t, d2, w.digestOf(w.test("web")+":current"))
	assert.Len(t, w.records(ledger.Query{}), 2, "and records nothing")

	res, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: short})
	require.NoError(t, err)
	assert.Equal(t, d1.String(), res.Digest)
	assert.Equal(t, short, res.Record.Source.Given, "the record keeps what was typed")
	assert.Equal(t, d1, w.digestOf(w.test("web")+":current"))

	again, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: short})
	require.NoError(t, err, "the same rollback again is nothing to do, not a conflict")
	assert.True(t, again.NothingToDo)
	assert.Len(t, w.records(ledger.Query{}), 3)

	assert.Nil(t, again.Record, "nothing to do writes no record, and names none")
	assert.Empty(t, again.Previous)
	bare, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: strings.ToUpper(d1.Hex), DryRun: true})
	require.NoError(t, err, "all 64 hex digits without sha256:, in capitals")
	assert.True(t, bare.NothingToDo)
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: short[:len(short)-1]})
	require.ErrorIs(t, err, errs.ErrUsage, "11 hex digits are a usage error, not a conflict")

	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: "sha256:0000000000000"})
	require.ErrorIs(t, err, errs.ErrUsage, "an unknown prefix is a usage error")
	assert.ErrorContains(t, err, "pass the full digest or a record id")
}
