package ledger

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeV1Ledger makes a ledger file as a promote before the log wrote it:
// schema version 1, records only.
func writeV1Ledger(t *testing.T, n int) (string, []Record) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(context.Background(), path)
	require.NoError(t, err)
	recs := loggedHistory(t, l, n)
	require.NoError(t, l.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TABLE log_leaves`, `DROP TABLE log_hashes`, `DROP TABLE log_checkpoints`,
		`DROP TABLE log_key`, `PRAGMA user_version = 1`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())
	return path, recs
}

func TestLedgerBeforeTheLogIsReadAndUpgradedInPlace(t *testing.T) {
	ctx := context.Background()
	path, recs := writeV1Ledger(t, 7)

	ro, err := OpenReadOnly(ctx, path)
	require.NoError(t, err, "a read opens a ledger written before the log")
	got, err := ro.Records(ctx, Query{})
	require.NoError(t, err)
	assert.Len(t, got, 7)
	_, err = ro.LeafIndex(ctx, recs[0].ID)
	assert.ErrorIs(t, err, ErrNotLogged)
	assert.ErrorContains(t, err, "promote ledger upgrade")
	require.NoError(t, ro.Close())

	key := testKey(t, "promote.test/upgraded")
	l, err := OpenWith(ctx, path, Options{Key: key})
	require.NoError(t, err)
	defer l.Close()
	up, err := l.Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 0, Size: 7, Signed: true}, up, "the writable open logged them; upgrade signs")
	for i, r := range recs {
		stored, err := l.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, r.Hash, stored.Hash, "no record hash changes")
		p, err := Prove(ctx, l, r.ID, key.Public)
		require.NoError(t, err)
		assert.EqualValues(t, i, p.LeafIndex, "logged in the order appended")
	}
	rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep.Problems)
	again, err := l.Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Size: 7, Signed: true}, again, "idempotent")
}
