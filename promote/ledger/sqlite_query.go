package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/errs"
)

// Head returns the head of the chain of app in env, or the zero Head if the
// chain has no record yet.
func (l *sqliteLedger) Head(ctx context.Context, app, env string) (Head, error) {
	h, err := chainHead(ctx, l.db, app, env)
	if err != nil {
		return Head{}, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return h, nil
}

// Records returns the records matching q, newest first: by time, then by
// seq, both descending. Each record is decoded from its stored body, with
// Hash taken from the hash column; Records does not verify them (Verify does).
func (l *sqliteLedger) Records(ctx context.Context, q Query) ([]Record, error) {
	query, args := recordsQuery(q)
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying ledger %s: %w", l.path, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var id, body, hash string
		if err := rows.Scan(&id, &body, &hash); err != nil {
			return nil, fmt.Errorf("reading ledger %s: %w", l.path, err)
		}
		rec, err := decodeRecord(id, body, hash)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", l.path, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading ledger %s: %w", l.path, err)
	}
	return out, nil
}

// recordsQuery builds the SELECT for q; zero fields of q add no condition.
func recordsQuery(q Query) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.App != "" {
		add("app = ?", q.App)
	}
	if q.Env != "" {
		add("env = ?", q.Env)
	}
	if len(q.Kinds) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Kinds)), ", ")
		kinds := make([]any, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = string(k)
		}
		add("kind IN ("+marks+")", kinds...)
	}
	if q.Actor != "" {
		add("json_extract(body, '$.actor.identity') = ?", q.Actor)
	}
	if q.Digest != "" {
		add("digest = ?", q.Digest)
	}
	if !q.Since.IsZero() {
		add("time >= ?", q.Since.UTC().Format(timeLayout))
	}
	if !q.Until.IsZero() {
		add("time < ?", q.Until.UTC().Format(timeLayout))
	}
	var b strings.Builder
	b.WriteString("SELECT id, body, hash FROM records")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if q.App != "" && q.Env != "" {
		// Within one chain the sequence is the truth: a clock that stepped
		// back must not change which record is newest.
		b.WriteString(" ORDER BY seq DESC")
	} else {
		b.WriteString(" ORDER BY time DESC, seq DESC, app, env")
	}
	switch {
	case q.Limit > 0:
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, q.Limit, q.Offset)
	case q.Offset > 0:
		b.WriteString(" LIMIT -1 OFFSET ?")
		args = append(args, q.Offset)
	}
	return b.String(), args
}

// Get returns the record with the given id, or an error wrapping
// errs.ErrNotFound if the ledger has none.
func (l *sqliteLedger) Get(ctx context.Context, id string) (Record, error) {
	var body, hash string
	err := l.db.QueryRowContext(ctx, `SELECT body, hash FROM records WHERE id = ?`, id).Scan(&body, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l.path, err)
	}
	rec, err := decodeRecord(id, body, hash)
	if err != nil {
		return Record{}, fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return rec, nil
}

// decodeRecord decodes a stored body and sets Hash from the hash column.
func decodeRecord(id, body, hash string) (Record, error) {
	var rec Record
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return Record{}, fmt.Errorf("decoding record %s: %w", id, err)
	}
	rec.Hash = hash
	return rec, nil
}
