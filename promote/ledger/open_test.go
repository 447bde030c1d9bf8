package ledger

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state dir", "nested")
	path := filepath.Join(dir, "ledger.db")
	l, err := Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	appendAtHead(t, l, newRecord("web", "test", digestN(1), t0))
	fi, err := os.Stat(path + "-wal")
	require.NoError(t, err, "the ledger is in WAL mode")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "SQLite gives the WAL the database's mode")
	require.NoError(t, l.Close())

	for p, mode := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + ".locks": 0o700} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode().Perm(), p)
	}

	// Reopening finds what was written.
	l, err = Open(ctx, path)
	require.NoError(t, err)
	defer l.Close()
	requireLinearChain(t, l, "web", "test", 1)
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, loc := range []string{"", "  ", "s3://", "sqlite://", "https://example.com/ledger"} {
		l, err := Open(ctx, loc)
		require.ErrorIs(t, err, errs.ErrConfig, "location %q", loc)
		assert.Nil(t, l)
	}

	// A database of another application is refused, not written into.
	other := filepath.Join(t.TempDir(), "other.db")
	db := openRaw(t, other)
	_, err := db.Exec(`CREATE TABLE accounts (id INTEGER)`)
	require.NoError(t, err)
	_, err = Open(ctx, other)
	assert.ErrorContains(t, err, "not a promote ledger")

	// A directory is not a ledger file.
	_, err = Open(ctx, t.TempDir())
	assert.Error(t, err)
}
