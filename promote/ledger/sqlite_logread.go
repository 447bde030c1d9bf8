package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

var (
	_ Log      = (*sqliteLedger)(nil)
	_ Upgrader = (*sqliteLedger)(nil)
)

// LogSize returns the number of leaves; 0 for a ledger written before the
// log and opened read-only.
func (l *sqliteLedger) LogSize(ctx context.Context) (int64, error) {
	if l.beforeLog {
		return 0, nil
	}
	n, err := sqlLogSize(ctx, l.db)
	if err != nil {
		return 0, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return n, nil
}

// Leaves reads the leaves start ≤ index < end with the body of the record
// each names; a leaf whose record is gone has a nil body.
func (l *sqliteLedger) Leaves(ctx context.Context, start, end int64, fn func(Leaf) error) error {
	if l.beforeLog {
		return nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT l.leaf, l.id, r.body, r.app, r.env, r.seq FROM log_leaves l
		LEFT JOIN records r ON r.id = l.id WHERE l.leaf >= ? AND l.leaf < ? ORDER BY l.leaf`, start, end)
	if err != nil {
		return fmt.Errorf("reading the log of ledger %s: %w", l.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var lf Leaf
		var body, app, env sql.NullString
		var seq sql.NullInt64
		if err := rows.Scan(&lf.Index, &lf.ID, &body, &app, &env, &seq); err != nil {
			return fmt.Errorf("reading the log of ledger %s: %w", l.path, err)
		}
		if body.Valid {
			lf.Body = []byte(body.String)
			lf.App, lf.Env, lf.Seq = app.String, env.String, seq.Int64
		}
		if err := fn(lf); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the log of ledger %s: %w", l.path, err)
	}
	return nil
}

// LeafIndex returns the leaf that logs record id.
func (l *sqliteLedger) LeafIndex(ctx context.Context, id string) (int64, error) {
	if l.beforeLog {
		if _, err := l.Get(ctx, id); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("ledger record %s: %w: the ledger was written before the log: run promote ledger upgrade", id, ErrNotLogged)
	}
	var leaf sql.NullInt64
	err := l.db.QueryRowContext(ctx, `SELECT l.leaf FROM records r LEFT JOIN log_leaves l ON l.id = r.id
		WHERE r.id = ?`, id).Scan(&leaf)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("reading the log of ledger %s: %w", l.path, err)
	case !leaf.Valid:
		return 0, fmt.Errorf("ledger record %s: %w", id, ErrNotLogged)
	}
	return leaf.Int64, nil
}

// TreeHashes returns the stored hashes at indexes.
func (l *sqliteLedger) TreeHashes(ctx context.Context, indexes []int64) ([]merkle.Hash, error) {
	hs, err := sqlHashes{ctx: ctx, q: l.db}.ReadHashes(indexes)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return hs, nil
}

// Checkpoint returns the signed checkpoint of the largest tree stored.
func (l *sqliteLedger) Checkpoint(ctx context.Context) ([]byte, error) {
	if l.beforeLog {
		return nil, nil
	}
	var note string
	err := l.db.QueryRowContext(ctx, `SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the checkpoint of ledger %s: %w", l.path, err)
	}
	return []byte(note), nil
}

// Checkpoints calls fn with every stored checkpoint, smallest tree first.
func (l *sqliteLedger) Checkpoints(ctx context.Context, fn func([]byte) error) error {
	if l.beforeLog {
		return nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT note FROM log_checkpoints ORDER BY size`)
	if err != nil {
		return fmt.Errorf("reading the checkpoints of ledger %s: %w", l.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var note string
		if err := rows.Scan(&note); err != nil {
			return fmt.Errorf("reading the checkpoints of ledger %s: %w", l.path, err)
		}
		if err := fn([]byte(note)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Upgrade logs the records the log does not hold (none, once Open has
// upgraded a ledger written before the log) and signs the checkpoint of
// the whole log if the ledger has a key and none is signed for that size.
func (l *sqliteLedger) Upgrade(ctx context.Context, o UpgradeOptions) (up Upgraded, err error) {
	if err := l.writable("upgrading", l.path); err != nil {
		return Upgraded{}, err
	}
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return Upgraded{}, fmt.Errorf("upgrading ledger %s: %w", l.path, err)
	}
	defer conn.Close()
	if err := beginImmediate(ctx, conn); err != nil {
		return Upgraded{}, fmt.Errorf("upgrading ledger %s: %w", l.path, err)
	}
	defer func() { err = finishTx(conn, err) }()
	by, err := signedBy(ctx, conn)
	if err != nil {
		return Upgraded{}, err
	}
	if err := l.checkKey(by, l.path); err != nil {
		return Upgraded{}, err
	}
	before, err := sqlLogSize(ctx, conn)
	if err != nil {
		return Upgraded{}, err
	}
	if up.Logged, err = logUnlogged(ctx, conn); err != nil {
		return Upgraded{}, fmt.Errorf("upgrading ledger %s: %w", l.path, err)
	}
	if up.Logged > 0 && (by != "" || l.key != nil) {
		// A record and its leaf are one transaction here: a record of a
		// signed log that no leaf logs was put in the file by hand.
		return Upgraded{}, fmt.Errorf("%w: ledger %s: %s in no leaf of its signed log: they were inserted behind its back; "+
			"audit it with promote ledger verify", ErrLogTampered, l.path, count(up.Logged, "record is", "records are"))
	}
	if up.Size, err = sqlLogSize(ctx, conn); err != nil {
		return Upgraded{}, err
	}
	r := sqlHashes{ctx: ctx, q: conn}
	if err := l.signable(ctx, conn, signing{Size: up.Size, Before: before, First: o.SignUnsigned, StrictTail: true}, r); err != nil {
		return Upgraded{}, err
	}
	if err := l.signTree(ctx, conn, up.Size, by, r); err != nil {
		return Upgraded{}, err
	}
	up.Signed = l.key != nil && up.Size > 0
	return up, nil
}

// count is n with the singular or plural words: "1 record is".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
