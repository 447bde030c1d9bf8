package ledger

import (
	"context"
	"fmt"
)

var _ importer = (*sqliteLedger)(nil)

// Import stores rec exactly as it is (seq, prev_hash, hash, id, time) as the
// next record of its chain, for Copy. In one IMMEDIATE transaction it checks
// that the chain's head is the record rec follows (seq-1 with hash
// prev_hash), else it returns ErrHeadMoved and stores nothing; a record
// whose hash is not its body's is refused before that.
func (l *sqliteLedger) Import(ctx context.Context, rec Record) (err error) {
	if err := l.writable("importing into", l.path); err != nil {
		return err
	}
	body, err := checkImport(rec)
	if err != nil {
		return err
	}
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("importing into ledger %s: %w", l.path, err)
	}
	defer conn.Close()
	if err := beginImmediate(ctx, conn); err != nil {
		return fmt.Errorf("importing %s/%s into ledger %s: %w", rec.App, rec.Env, l.path, err)
	}
	defer func() { err = finishTx(conn, err) }()

	head, err := chainHead(ctx, conn, rec.App, rec.Env)
	if err != nil {
		return fmt.Errorf("importing into ledger %s: %w", l.path, err)
	}
	if want := (Head{Seq: rec.Seq - 1, Hash: rec.PrevHash}); head != want {
		return fmt.Errorf("importing record %s: %w", rec.ID, headMoved(rec.App, rec.Env, head, want))
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO records
		(id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, rec.App, rec.Env, rec.Seq, string(rec.Kind), rec.Digest, rec.Time.UTC().Format(timeLayout),
		rec.PrevHash, rec.Hash, string(body))
	if err != nil {
		return insertError(&rec, err)
	}
	return l.logRecord(ctx, conn, &rec, body)
}
