package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// rebuildRecords gives the records table of an older ledger the CHECK
// constraint of this schema (SQLite cannot alter a constraint): the
// documented procedure of a new table, every row copied verbatim, the old
// table dropped and the new one renamed, then the indexes, triggers and
// view made again. It runs inside migrate's IMMEDIATE transaction, so it
// happens whole or not at all, with foreign keys off; the log's foreign
// key to records(id) is checked here before the commit.
func rebuildRecords(ctx context.Context, conn *sql.Conn) error {
	var before int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&before); err != nil {
		return err
	}
	stmts := []string{
		`DROP VIEW IF EXISTS history`,
		recordsTable("records_rebuilt"),
		`INSERT INTO records_rebuilt (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		SELECT id, app, env, seq, kind, digest, time, prev_hash, hash, body FROM records ORDER BY rowid`,
		`DROP TABLE records`,
		`ALTER TABLE records_rebuilt RENAME TO records`,
	}
	if err := execAll(ctx, conn, append(stmts, schemaV1...)); err != nil {
		return err
	}
	var after int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&after); err != nil {
		return err
	}
	if after != before {
		return fmt.Errorf("the rebuilt records table holds %d records, not %d", after, before)
	}
	rows, err := conn.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		return fmt.Errorf("after the rebuild a log leaf names a record the table does not hold")
	}
	return rows.Err()
}
