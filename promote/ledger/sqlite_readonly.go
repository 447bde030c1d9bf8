package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// openSQLiteReadOnly opens the SQLite ledger at path for reading only (see
// OpenReadOnly). A file that does not exist, or exists with no schema yet
// (created by an opener that has not written it), is an empty ledger; a
// database of another schema version or application is an error.
func openSQLiteReadOnly(ctx context.Context, path string) (_ Ledger, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ledger path %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return emptyLedger{path: abs}, nil
	case err != nil:
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	case fi.IsDir():
		return nil, fmt.Errorf("opening ledger %s: it is a directory, not a ledger file", abs)
	}
	l := &sqliteLedger{path: abs, lockDir: abs + ".locks", writeGuard: writeGuard{readOnly: true}}
	l.strictReads = strictReads{l}
	if l.db, err = sql.Open("sqlite", sqliteDSN(abs, true)); err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}
	defer func() {
		if err != nil {
			_ = l.db.Close()
		}
	}()
	s, err := readSchemaState(ctx, l.db, abs)
	switch {
	case err != nil:
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	case s.empty():
		_ = l.db.Close()
		return emptyLedger{path: abs}, nil
	case s.beforeLog():
		l.beforeLog = true // read as it is: its log is added by the first write
	case s.beforeKinds(): // read as it is: it holds none of the new kinds
	case !s.current():
		return nil, s.mismatch(abs)
	}
	return l, nil
}
