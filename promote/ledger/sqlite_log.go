package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// schemaLog is the transparency log of an SQLite ledger (schema version 2):
// the leaves in log order, each naming its record (the leaf hash covers the
// record's body column), the tree's stored hashes by their tlog index, every
// signed checkpoint by tree size, and the verifier key the checkpoints are
// signed with. Like the records, every table refuses UPDATE and DELETE.
var schemaLog = []string{
	`CREATE TABLE IF NOT EXISTS log_leaves (
		leaf INTEGER PRIMARY KEY CHECK (leaf >= 0), -- 0, 1, 2… in append order
		id   TEXT NOT NULL UNIQUE REFERENCES records (id)
	)`,
	`CREATE TABLE IF NOT EXISTS log_hashes (
		idx  INTEGER PRIMARY KEY CHECK (idx >= 0), -- golang.org/x/mod/sumdb/tlog stored hash index
		hash BLOB NOT NULL CHECK (length(hash) = 32)
	)`,
	`CREATE TABLE IF NOT EXISTS log_checkpoints (
		size INTEGER PRIMARY KEY CHECK (size >= 1),
		note TEXT NOT NULL -- the signed checkpoint: origin, size, root, then the signature
	)`,
	`CREATE TABLE IF NOT EXISTS log_key (
		one  INTEGER PRIMARY KEY CHECK (one = 1),
		vkey TEXT NOT NULL -- the note verifier key the checkpoints are signed with
	)`,
}

func init() {
	for _, t := range []string{"log_leaves", "log_hashes", "log_checkpoints", "log_key"} {
		schemaLog = append(schemaLog, appendOnly(t)...)
	}
}

// appendOnly returns the triggers that refuse UPDATE and DELETE on table.
func appendOnly(table string) []string {
	return []string{
		fmt.Sprintf(`CREATE TRIGGER IF NOT EXISTS %[1]s_no_update BEFORE UPDATE ON %[1]s
	BEGIN SELECT RAISE(ABORT, 'the ledger log is append-only'); END`, table),
		fmt.Sprintf(`CREATE TRIGGER IF NOT EXISTS %[1]s_no_delete BEFORE DELETE ON %[1]s
	BEGIN SELECT RAISE(ABORT, 'the ledger log is append-only'); END`, table),
	}
}

// sqlHashes reads stored hashes through q, in the transaction q is in;
// fresh holds hashes written by this transaction but not yet needed from
// the table (nil: none), so an upgrade of many records reads little.
type sqlHashes struct {
	ctx   context.Context
	q     sqlQueryer
	fresh map[int64]merkle.Hash
}

// sqlQueryer is an *sql.Conn or *sql.DB.
type sqlQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (r sqlHashes) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		if h, ok := r.fresh[x]; ok {
			out[i] = h
		} else {
			missing = append(missing, x)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := readStoredHashes(r.ctx, r.q, missing)
	if err != nil {
		return nil, err
	}
	for i, x := range indexes {
		if _, ok := r.fresh[x]; ok {
			continue
		}
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("the log has no stored hash %d", x)
		}
		out[i] = h
	}
	return out, nil
}

// readStoredHashes reads the stored hashes at indexes, in chunks of a
// bounded number of SQL parameters.
func readStoredHashes(ctx context.Context, q sqlQueryer, indexes []int64) (map[int64]merkle.Hash, error) {
	found := make(map[int64]merkle.Hash, len(indexes))
	const chunk = 500
	for len(indexes) > 0 {
		n := min(chunk, len(indexes))
		args := make([]any, n)
		for i, x := range indexes[:n] {
			args[i] = x
		}
		indexes = indexes[n:]
		rows, err := q.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE idx IN (?`+
			strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading the log's hashes: %w", err)
		}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the log's hashes: %w", err)
			}
			var hash merkle.Hash
			if copy(hash[:], h) != len(hash) {
				rows.Close()
				return nil, fmt.Errorf("the log's stored hash %d is %d bytes, not 32", idx, len(h))
			}
			found[idx] = hash
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("reading the log's hashes: %w", err)
		}
	}
	return found, nil
}

// sqlLogSize is the number of leaves: one more than the highest index.
func sqlLogSize(ctx context.Context, q sqlQueryer) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(leaf) + 1, 0) FROM log_leaves`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the log's size: %w", err)
	}
	return n, nil
}

// appendLeaf logs record id, whose body is body, as leaf n, in conn's
// transaction, and remembers the hashes it stores in r.fresh when set.
func appendLeaf(ctx context.Context, conn *sql.Conn, n int64, id string, body []byte, r sqlHashes) error {
	idx, hashes, err := merkle.Stored(n, body, r)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO log_leaves (leaf, id) VALUES (?, ?)`, n, id); err != nil {
		return fmt.Errorf("logging record %s as leaf %d: %w", id, n, err)
	}
	args := make([]any, 0, 2*len(idx))
	for i, x := range idx {
		args = append(args, x, hashes[i][:])
		if r.fresh != nil {
			r.fresh[x] = hashes[i]
		}
	}
	stmt := `INSERT INTO log_hashes (idx, hash) VALUES (?, ?)` + strings.Repeat(", (?, ?)", len(idx)-1)
	if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("logging record %s as leaf %d: %w", id, n, err)
	}
	return nil
}

// logUnlogged logs every record the log does not hold, in the order the
// records were appended (rowid), in conn's transaction, and returns how many
// it logged.
func logUnlogged(ctx context.Context, conn *sql.Conn) (int, error) {
	rows, err := conn.QueryContext(ctx, `SELECT id, body FROM records
		WHERE id NOT IN (SELECT id FROM log_leaves) ORDER BY rowid`)
	if err != nil {
		return 0, fmt.Errorf("reading the records to log: %w", err)
	}
	type pending struct {
		id   string
		body []byte
	}
	var todo []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.body); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading the records to log: %w", err)
		}
		todo = append(todo, p)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("reading the records to log: %w", err)
	}
	n, err := sqlLogSize(ctx, conn)
	if err != nil {
		return 0, err
	}
	r := sqlHashes{ctx: ctx, q: conn, fresh: map[int64]merkle.Hash{}}
	for i, p := range todo {
		if err := appendLeaf(ctx, conn, n+int64(i), p.id, p.body, r); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// signedBy returns the verifier key the log's checkpoints are signed with,
// "" if none is signed yet.
func signedBy(ctx context.Context, q sqlQueryer) (string, error) {
	var vkey string
	err := q.QueryRowContext(ctx, `SELECT vkey FROM log_key WHERE one = 1`).Scan(&vkey)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the log's key: %w", err)
	}
	return vkey, nil
}

// logRecord logs the record id (body) just inserted in conn's transaction
// and, with a key, signs and stores the checkpoint of the grown tree. It
// refuses, before anything is logged, a writer without the key the log is
// signed with, and, before signing, a log that does not extend its newest
// signed checkpoint (checkSignable): the transaction then stores nothing.
func (l *sqliteLedger) logRecord(ctx context.Context, conn *sql.Conn, rec *Record, body []byte) error {
	by, err := signedBy(ctx, conn)
	if err != nil {
		return err
	}
	if err := l.checkKey(by, l.path); err != nil {
		return err
	}
	if err := prevLogged(ctx, conn, rec, by != "" || l.key != nil); err != nil {
		return err
	}
	id := rec.ID
	n, err := sqlLogSize(ctx, conn)
	if err != nil {
		return err
	}
	r := sqlHashes{ctx: ctx, q: conn, fresh: map[int64]merkle.Hash{}}
	if err := appendLeaf(ctx, conn, n, id, body, r); err != nil {
		return err
	}
	if err := l.signable(ctx, conn, signing{Size: n + 1, Before: n, StrictTail: true}, r); err != nil {
		return err
	}
	return l.signTree(ctx, conn, n+1, by, r)
}

// prevLogged refuses to append rec after a record that no leaf logs, when
// the log is signed or this writer holds the key (signed): a record and its
// leaf are one transaction here, so that one was put in the file by hand.
// Whether the log is signed is not taken from the file alone: its log_key
// row can be deleted as easily as a record added.
func prevLogged(ctx context.Context, conn *sql.Conn, rec *Record, signed bool) error {
	if !signed || rec.Seq <= 1 {
		return nil
	}
	var logged bool
	err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM log_leaves l JOIN records r ON r.id = l.id
		WHERE r.app = ? AND r.env = ? AND r.seq = ?)`, rec.App, rec.Env, rec.Seq-1).Scan(&logged)
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	if !logged {
		return fmt.Errorf("%w: %s in %s: record %d is in no leaf of the signed log: it was inserted behind its back; "+
			"audit the ledger with promote ledger verify", ErrLogTampered, rec.App, rec.Env, rec.Seq-1)
	}
	return nil
}

// signable reads the newest stored checkpoint through q and checks the
// tree r reads against it (checkSignable).
func (l *sqliteLedger) signable(ctx context.Context, q sqlQueryer, o signing, r sqlHashes) error {
	if l.key == nil {
		return nil
	}
	newest, err := sqlNewestNote(ctx, q)
	if err != nil {
		return err
	}
	return l.checkSignable(newest, o, r, l.path)
}

// sqlNewestNote reads the stored checkpoint of the largest tree; nil if none.
func sqlNewestNote(ctx context.Context, q sqlQueryer) ([]byte, error) {
	var note string
	err := q.QueryRowContext(ctx, `SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the log's newest checkpoint: %w", err)
	}
	return []byte(note), nil
}

// checkWriter checks, when a writer opens the ledger, what its appends
// will: its key (checkKey), and that the log as stored extends its newest
// signed checkpoint, so a promotion refused for either is refused before
// it copies anything.
func (l *sqliteLedger) checkWriter(ctx context.Context) error {
	by, err := signedBy(ctx, l.db)
	if err != nil {
		return fmt.Errorf("opening ledger %s: %w", l.path, err)
	}
	if err := l.checkKey(by, l.path); err != nil {
		return err
	}
	n, err := sqlLogSize(ctx, l.db)
	if err != nil {
		return err
	}
	if by != "" || l.key != nil {
		// A record and its leaf are one transaction: a record no leaf logs
		// was put in the file by hand (a log_key row deleted does not make
		// the log unsigned to a writer holding the key).
		var recs int64
		if err := l.db.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&recs); err != nil {
			return fmt.Errorf("opening ledger %s: %w", l.path, err)
		}
		unlogged := int(recs - n) // leaves name records (a foreign key), so more records than leaves are unlogged ones
		if unlogged > 0 {
			return fmt.Errorf("%w: ledger %s: %s in no leaf of its signed log: inserted behind its back; audit it with "+
				"promote ledger verify", ErrLogTampered, l.path, count(unlogged, "record is", "records are"))
		}
	}
	return l.signable(ctx, l.db, signing{Size: n, Before: n, StrictTail: true}, sqlHashes{ctx: ctx, q: l.db})
}

// signTree signs the checkpoint of the first size leaves and stores it,
// with the key's verifier key if the log had none (by == ""); without a
// key it does nothing.
func (l *sqliteLedger) signTree(ctx context.Context, conn *sql.Conn, size int64, by string, r sqlHashes) error {
	if l.key == nil || size == 0 {
		return nil
	}
	root, err := merkle.Root(size, r)
	if err != nil {
		return err
	}
	note, err := l.sign(size, root)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO log_checkpoints (size, note) VALUES (?, ?)
		ON CONFLICT (size) DO NOTHING`, size, string(note)); err != nil {
		return fmt.Errorf("storing the checkpoint of %d leaves: %w", size, err)
	}
	if by == "" {
		if _, err := conn.ExecContext(ctx, `INSERT INTO log_key (one, vkey) VALUES (1, ?)`, l.key.Public); err != nil {
			return fmt.Errorf("storing the log's key: %w", err)
		}
	}
	return nil
}
