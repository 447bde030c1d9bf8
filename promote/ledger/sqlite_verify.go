package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Verify reads every chain (app, env) in seq order, checks each row on its
// own and walks each chain with verifyChain, as the S3 backend does; it
// reports each record that does not check out: a seq that does not continue 1, 2, 3… (a record
// was deleted), a body whose SHA-256 is not its hash column (the body was
// edited), a prev_hash that is not the previous record's hash (a record was
// edited and re-hashed, inserted or reordered), a column that disagrees with
// the body it indexes (the column was edited), or a body that is not JSON.
// Problems are ordered by app, env and seq, so the first names the first
// record that does not check out. An error means the walk itself failed.
//
// What Verify cannot detect on its own: a chain cut short at its end (the
// last records deleted), or an edited last record whose hash was recomputed,
// or more generally a tail rewritten and re-hashed from some record onwards.
// Those need an anchor kept outside the ledger, such as a copy of each
// chain's Head.
func (l *sqliteLedger) Verify(ctx context.Context) (Report, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, app, env, seq, kind, digest, time, prev_hash, hash, body
		FROM records ORDER BY app, env, seq`)
	if err != nil {
		return Report{}, fmt.Errorf("verifying ledger %s: %w", l.path, err)
	}
	defer rows.Close()

	rep := Report{Problems: []Problem{}}
	var chain []storedRecord
	var app, env string
	for rows.Next() {
		r, err := scanStoredRow(rows)
		if err != nil {
			return Report{}, fmt.Errorf("verifying ledger %s: %w", l.path, err)
		}
		if len(chain) > 0 && (r.App != app || r.Env != env) {
			verifyChain(&rep, app, env, chain)
			chain = chain[:0]
		}
		app, env = r.App, r.Env
		chain = append(chain, r.stored())
	}
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("verifying ledger %s: %w", l.path, err)
	}
	verifyChain(&rep, app, env, chain)
	return rep, nil
}

// storedRow is one row of the records table as stored, read leniently so
// that a tampered row is reported rather than failing the walk.
type storedRow struct {
	ID, App, Env, Kind, Digest, Time, PrevHash, Hash, Body string
	Seq                                                    int64
	SeqOK                                                  bool // the seq column holds an integer
}

// scanStoredRow reads the row's first ten columns, id to body; more columns
// are scanned into extra.
func scanStoredRow(rows *sql.Rows, extra ...any) (storedRow, error) {
	var id, app, env, kind, digest, tm, prevHash, hash, body sql.NullString
	var seq any
	dest := append([]any{&id, &app, &env, &seq, &kind, &digest, &tm, &prevHash, &hash, &body}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return storedRow{}, err
	}
	r := storedRow{
		ID: id.String, App: app.String, Env: env.String, Kind: kind.String, Digest: digest.String,
		Time: tm.String, PrevHash: prevHash.String, Hash: hash.String, Body: body.String,
	}
	r.Seq, r.SeqOK = seq.(int64)
	return r, nil
}

// seqNotInteger is the problem of a row whose seq column is not an integer.
const seqNotInteger = "seq column is not an integer"

// stored is r as Verify's walk of its chain takes it, checked on its own.
func (r storedRow) stored() storedRecord {
	_, self, _ := r.checkSelf()
	s := storedRecord{ID: r.ID, Seq: r.Seq, PrevHash: r.PrevHash, Hash: r.Hash, Self: self}
	if !r.SeqOK {
		s.SeqErr = seqNotInteger
	}
	return s
}

// checkSelf checks r on its own: its body against its hash, and its columns
// against its body. It returns the record the body holds, or, if the body
// is not a record (ok false), one made of the columns.
func (r storedRow) checkSelf() (rec Record, msgs []string, ok bool) {
	rec, msgs, ok = checkBody([]byte(r.Body), r.Hash)
	if !ok {
		return Record{ID: r.ID, App: r.App, Env: r.Env, Seq: r.Seq, Kind: Kind(r.Kind), Digest: r.Digest,
			PrevHash: r.PrevHash, Hash: r.Hash}, msgs, false
	}
	return rec, append(msgs, r.columnsDisagree(rec)...), true
}

// columnsDisagree lists the columns of r whose values differ from the body
// they were written from.
func (r storedRow) columnsDisagree(body Record) []string {
	var msgs []string
	cmp := func(col, column, inBody string) {
		if column != inBody {
			msgs = append(msgs, fmt.Sprintf("column %s %q disagrees with body %q", col, column, inBody))
		}
	}
	cmp("id", r.ID, body.ID)
	cmp("app", r.App, body.App)
	cmp("env", r.Env, body.Env)
	if !r.SeqOK {
		msgs = append(msgs, fmt.Sprintf("column seq disagrees with body seq %d", body.Seq))
	} else if r.Seq != body.Seq {
		msgs = append(msgs, fmt.Sprintf("column seq %d disagrees with body seq %d", r.Seq, body.Seq))
	}
	cmp("kind", r.Kind, string(body.Kind))
	cmp("digest", r.Digest, body.Digest)
	cmp("prev_hash", r.PrevHash, body.PrevHash)
	if t, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || !t.Equal(body.Time) {
		cmp("time", r.Time, body.Time.UTC().Format(timeLayout))
	}
	return msgs
}
