package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// schemaVersion is stored in PRAGMA user_version. Bump it, and add a
// migration to migrate, whenever the tables below change. Version 1 had the
// records only; version 2 adds the transparency log (schemaLog); version 3
// lets the records table hold the release-control kinds (freeze, unfreeze,
// revocation, unrevocation), which needs the table rebuilt (rebuildRecords).
const schemaVersion = 3

// schemaBeforeKinds is the version of a ledger written before the
// release-control kinds: read as it is, rebuilt by a writable open.
const schemaBeforeKinds = 2

// schemaBeforeLog is the version of a ledger written before the log: read
// as it is by a read-only open, upgraded by a writable one.
const schemaBeforeLog = 1

// applicationID marks an SQLite file as a promote ledger ("PROM"), so that
// Open refuses some other application's database instead of writing into it.
const applicationID = 0x50524f4d

// schemaV1 is written so that an auditor can read the ledger with the sqlite3
// shell: one row per record, the hashed JSON body verbatim, and a `history`
// view with the columns a person reads first. The triggers refuse UPDATE and
// DELETE: they stop accidents, not a determined editor (Verify catches that).
var schemaV1 = []string{
	recordsTable("records"),
	`CREATE INDEX IF NOT EXISTS records_chain ON records (app, env, seq)`,
	`CREATE INDEX IF NOT EXISTS records_time ON records (time)`,
	`CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
	BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
	BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END`,
	historyView,
}

// recordsTable is the CREATE TABLE statement of the records table, named
// name (a rebuild creates it under another name first).
func recordsTable(name string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		id        TEXT PRIMARY KEY,
		app       TEXT NOT NULL,
		env       TEXT NOT NULL,
		seq       INTEGER NOT NULL CHECK (seq >= 1),
		kind      TEXT NOT NULL CHECK (kind IN (%s)),
		digest    TEXT NOT NULL,
		time      TEXT NOT NULL, -- RFC 3339 UTC with 9 fraction digits, so text order is time order
		prev_hash TEXT NOT NULL, -- hash of the record before in (app, env); '' for seq 1
		hash      TEXT NOT NULL, -- 'sha256:' || hex(sha256(body))
		body      TEXT NOT NULL, -- the record as JSON, exactly the bytes that hash covers
		UNIQUE (app, env, seq)
	)`, name, sqlKinds())
}

// sqlKinds is the kinds a record may have, as an SQL list of literals.
func sqlKinds() string {
	q := make([]string, len(Kinds))
	for i, k := range Kinds {
		q[i] = "'" + string(k) + "'"
	}
	return strings.Join(q, ", ")
}

// historyView is the view an auditor reads first.
const historyView = `CREATE VIEW IF NOT EXISTS history AS
	SELECT time, app, env, seq, kind, digest,
		CASE WHEN json_valid(body) THEN coalesce(
			json_extract(body, '$.actor.identity'),
			json_extract(body, '$.actor.user') || '@' || json_extract(body, '$.actor.host'),
			json_extract(body, '$.actor.user')) END AS actor,
		CASE WHEN json_valid(body) THEN json_extract(body, '$.reason') END AS reason,
		id
	FROM records
	ORDER BY time, app, env, seq`

// schemaState is what an SQLite database says about its schema.
type schemaState struct {
	version, appID, objects int
}

// querier is an *sql.Conn or *sql.DB.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readSchemaState reads the schema version, application id and number of
// schema objects of the database behind q.
func readSchemaState(ctx context.Context, q querier, path string) (schemaState, error) {
	var s schemaState
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&s.version); err != nil {
		return s, fmt.Errorf("reading schema version of ledger %s: %w", path, err)
	}
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&s.appID); err != nil {
		return s, fmt.Errorf("reading application id of ledger %s: %w", path, err)
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&s.objects); err != nil {
		return s, fmt.Errorf("reading schema of ledger %s: %w", path, err)
	}
	return s, nil
}

// current reports whether the database is a ledger of this promote's schema.
func (s schemaState) current() bool { return s.version == schemaVersion && s.appID == applicationID }

// beforeLog reports whether the database is a ledger written before the log.
func (s schemaState) beforeLog() bool {
	return s.version == schemaBeforeLog && s.appID == applicationID
}

// beforeKinds reports whether the database is a ledger written before the
// release-control kinds: readable as it is, since it holds none of them.
func (s schemaState) beforeKinds() bool {
	return s.version == schemaBeforeKinds && s.appID == applicationID
}

// empty reports whether the database is new: no schema, version or id.
func (s schemaState) empty() bool { return s.version == 0 && s.appID == 0 && s.objects == 0 }

// mismatch says why a database that is neither current nor empty is not
// one this promote reads or writes.
func (s schemaState) mismatch(path string) error {
	switch {
	case s.appID != applicationID:
		return fmt.Errorf("%s is not a promote ledger (SQLite application_id %#x, tables present)", path, s.appID)
	case s.version > schemaVersion:
		return fmt.Errorf("ledger %s has schema version %d; this promote reads version %d: upgrade promote",
			path, s.version, schemaVersion)
	}
	return fmt.Errorf("ledger %s has schema version %d, older than version %d that this promote reads, "+
		"and this promote has no migration from it: use the promote that wrote it", path, s.version, schemaVersion)
}

// migrate brings the schema of the database behind conn to schemaVersion in
// one IMMEDIATE transaction, so concurrent openers create it exactly once.
// It refuses a database written by a newer promote or by another application.
//
// Foreign keys are off on conn while it runs (a pragma a transaction
// cannot change), as SQLite's procedure for rebuilding a table asks:
// rebuildRecords checks them itself before the commit.
func migrate(ctx context.Context, conn *sql.Conn, path string) (err error) {
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("opening ledger %s: %w", path, err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil && err == nil {
			err = fmt.Errorf("opening ledger %s: %w", path, ferr)
		}
	}()
	if err := beginImmediate(ctx, conn); err != nil {
		return fmt.Errorf("opening ledger %s: %w", path, err)
	}
	defer func() { err = finishTx(conn, err) }()

	s, err := readSchemaState(ctx, conn, path)
	switch {
	case err != nil:
		return err
	case s.current():
		return nil
	case s.beforeLog():
		// Upgraded in place: the log is built over the records as they
		// are, in the order they were appended; no record changes.
		if err := execAll(ctx, conn, schemaLog); err != nil {
			return fmt.Errorf("adding the log to ledger %s: %w", path, err)
		}
		if _, err := logUnlogged(ctx, conn); err != nil {
			return fmt.Errorf("adding the log to ledger %s: %w", path, err)
		}
		if err := rebuildRecords(ctx, conn); err != nil {
			return fmt.Errorf("upgrading ledger %s to schema version %d: %w", path, schemaVersion, err)
		}
	case s.beforeKinds():
		if err := rebuildRecords(ctx, conn); err != nil {
			return fmt.Errorf("upgrading ledger %s to schema version %d: %w", path, schemaVersion, err)
		}
	case !s.empty():
		return s.mismatch(path)
	default: // a new, empty database: create the schema
		if err := execAll(ctx, conn, append(append([]string{}, schemaV1...), schemaLog...)); err != nil {
			return fmt.Errorf("creating schema of ledger %s: %w", path, err)
		}
	}
	for _, stmt := range []string{
		fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion),
		fmt.Sprintf(`PRAGMA application_id = %d`, applicationID),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("setting schema version of ledger %s: %w", path, err)
		}
	}
	return nil
}

// execAll runs stmts in order on conn.
func execAll(ctx context.Context, conn *sql.Conn, stmts []string) error {
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}
