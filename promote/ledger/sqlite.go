package ledger

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// busyTimeoutMillis is how long a connection waits for another writer's
// transaction before SQLite reports the database busy.
const busyTimeoutMillis = 10_000

// sqliteLedger is the embedded backend: one SQLite file in WAL mode, shared by
// the goroutines of a process and by the processes of one machine.
type sqliteLedger struct {
	strictReads // Records and Get, of RecordsChecked and GetChecked
	writeGuard  // set by OpenReadOnly
	logSigner   // the key checkpoints are signed with, if any

	beforeLog bool // a read-only open of a ledger written before the log

	db      *sql.DB
	path    string // absolute path of the database file
	lockDir string // directory of the per-chain lock files, path + ".locks"
}

var _ Ledger = (*sqliteLedger)(nil)

// openSQLite opens or creates the SQLite ledger at path. Creating the file,
// switching it to WAL and writing the schema happen under a file lock, so
// several processes may open a new ledger at once.
func openSQLite(ctx context.Context, path string, key *Key) (_ *sqliteLedger, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ledger path %q: %w", path, err)
	}
	l := &sqliteLedger{path: abs, lockDir: abs + ".locks", logSigner: logSigner{key}}
	l.strictReads = strictReads{l}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("creating directory of ledger %s: %w", abs, err)
	}
	if err := os.MkdirAll(l.lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating lock directory of ledger %s: %w", abs, err)
	}
	// Create the file ourselves so that it gets mode 0600; SQLite gives its
	// -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}

	l.db, err = sql.Open("sqlite", sqliteDSN(abs, false))
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}
	defer func() {
		if err != nil {
			_ = l.db.Close()
		}
	}()
	release, err := lockFile(ctx, filepath.Join(l.lockDir, "open.lock"))
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}
	defer release()
	if err := l.initialise(ctx); err != nil {
		return nil, err
	}
	// A writer that could not sign is refused now, rather than at its
	// record; whether it would refuse to sign the log as it is, the engine
	// asks (CheckWriter) before it copies anything.
	by, err := signedBy(ctx, l.db)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", abs, err)
	}
	if err := l.checkKey(by, abs); err != nil {
		return nil, err
	}
	return l, nil
}

// sqliteDSN returns the data source name of the database file at abs with the
// pragmas every connection needs. The path is URI-escaped, so any file name
// works. A readOnly DSN never creates the file (mode=rw: read-write if the
// file's permissions allow, else read-only) and sets query_only, so SQLite
// refuses every write made through it.
func sqliteDSN(abs string, readOnly bool) string {
	q := url.Values{}
	if readOnly {
		q.Add("mode", "rw")
		q.Add("_pragma", "query_only(1)")
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// initialise switches the database to WAL (a persistent property of the
// file) and creates or checks the schema.
func (l *sqliteLedger) initialise(ctx context.Context) error {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening ledger %s: %w", l.path, err)
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("switching ledger %s to WAL: %w", l.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("switching ledger %s to WAL: journal mode is still %q", l.path, mode)
	}
	return migrate(ctx, conn, l.path)
}

// Close closes the database. Locks taken with Lock stay held until released.
func (l *sqliteLedger) Close() error {
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("closing ledger %s: %w", l.path, err)
	}
	return nil
}

// beginImmediate starts a write transaction on conn, taking SQLite's write
// lock now (waiting up to the busy timeout) rather than at the first write,
// so what the transaction reads cannot change before it commits.
func beginImmediate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("beginning write transaction: %w", err)
	}
	return nil
}

// finishTx ends the transaction begun by beginImmediate: COMMIT if err is
// nil, else ROLLBACK, and returns the error that decides the outcome. It
// ignores the caller's context so that a transaction is never left open; a
// connection whose transaction cannot be ended is discarded, not pooled.
func finishTx(conn *sql.Conn, err error) error {
	ctx := context.Background()
	if err == nil {
		_, err = conn.ExecContext(ctx, `COMMIT`)
		if err == nil {
			return nil
		}
		err = fmt.Errorf("committing: %w", err)
	}
	if _, rerr := conn.ExecContext(ctx, `ROLLBACK`); rerr != nil && !noTransaction(rerr) {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// noTransaction reports whether err says there was no transaction to roll
// back: SQLite rolls back by itself after some failures, such as an interrupt.
func noTransaction(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no transaction is active")
}
