package promote

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger"
)

// behindLedger stores every record, then says its log is behind, as the S3
// ledger does when the leaf, log index or checkpoint after a stored record
// cannot be written.
type behindLedger struct{ ledger.Ledger }

func (l behindLedger) Append(ctx context.Context, rec *ledger.Record, expected ledger.Head) error {
	if err := l.Ledger.Append(ctx, rec, expected); err != nil {
		return err
	}
	return fmt.Errorf("record %s is stored but not logged: %w", rec.ID, ledger.ErrLogBehind)
}

// A record whose log is behind stands: the promotion is done, said once
// as a warning, and not reported as failed (which would send a pipeline to
// run it again, or page someone at 3 a.m.).
func TestPromotionStandsWhenTheLogIsBehind(t *testing.T) {
	var logs bytes.Buffer
	w := newWorld(t, withEngineOptions(WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	w.push("web", "1.0", "1.0")
	e := w.engineOn(func(l ledger.Ledger) ledger.Ledger { return behindLedger{l} })
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	require.NotNil(t, res.Record)
	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, 1)
	assert.Equal(t, res.Record.ID, recs[0].ID)
	assert.Contains(t, logs.String(), "recorded, but the ledger's log is behind")
	assert.Contains(t, logs.String(), res.Record.ID)
}
