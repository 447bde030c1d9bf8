package ledger

import (
	"context"
	"database/sql"
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

// RecordsChecked returns the records matching q, each decoded from its body
// (Hash from the hash column) and checked: the body hashes to its hash, the
// columns equal the body's fields, and its prev_hash and the next record's
// link it to the records beside it. Kind and digest select a record when its
// column or its body matches, so that an edit of either side surfaces the
// record as one that does not check out rather than hiding or inventing it.
// The neighbours cost two lookups by (app, env, seq) per record returned.
func (l *sqliteLedger) RecordsChecked(ctx context.Context, q Query) ([]Checked, error) {
	query, args := recordsQuery(q)
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying ledger %s: %w", l.path, err)
	}
	defer rows.Close()
	var out []Checked
	for rows.Next() {
		c, err := scanChecked(rows)
		if err != nil {
			return nil, fmt.Errorf("reading ledger %s: %w", l.path, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading ledger %s: %w", l.path, err)
	}
	return out, nil
}

// checkedColumns selects a stored row (as scanStoredRow reads it) and what
// scanChecked needs of the records beside it in its chain.
const checkedColumns = `SELECT r.id, r.app, r.env, r.seq, r.kind, r.digest, r.time, r.prev_hash, r.hash, r.body,
	(SELECT b.hash FROM records b WHERE b.app = r.app AND b.env = r.env AND b.seq = r.seq - 1),
	(SELECT a.prev_hash FROM records a WHERE a.app = r.app AND a.env = r.env AND a.seq = r.seq + 1)
	FROM records r`

// scanChecked reads one row of checkedColumns and checks it.
func scanChecked(rows *sql.Rows) (Checked, error) {
	var before, afterPrev sql.NullString
	r, err := scanStoredRow(rows, &before, &afterPrev)
	if err != nil {
		return Checked{}, err
	}
	rec, msgs, _ := r.checkSelf()
	if !r.SeqOK {
		msgs = append(msgs, seqNotInteger)
	}
	n := neighbours{before: before.String, hasBefore: before.Valid, afterPrev: afterPrev.String, hasAfter: afterPrev.Valid}
	return newChecked(rec, append(msgs, n.problems(r.Seq, r.PrevHash, r.Hash)...)), nil
}

// bodyField is the SQL for a field of the body, NULL for a body that is not
// JSON (json_extract would fail the whole query on it).
func bodyField(path string) string {
	return "CASE WHEN json_valid(body) THEN json_extract(body, '" + path + "') END"
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
		add("(kind IN ("+marks+") OR "+bodyField("$.kind")+" IN ("+marks+"))", append(kinds, kinds...)...)
	}
	if q.Actor != "" {
		add(bodyField("$.actor.identity")+" = ?", q.Actor)
	}
	if q.Digest != "" {
		add("(digest = ? OR "+bodyField("$.digest")+" = ?)", q.Digest, q.Digest)
	}
	if !q.Since.IsZero() {
		add("time >= ?", q.Since.UTC().Format(timeLayout))
	}
	if !q.Until.IsZero() {
		add("time < ?", q.Until.UTC().Format(timeLayout))
	}
	var b strings.Builder
	b.WriteString(checkedColumns)
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

// GetChecked returns the record with the given id, checked like
// RecordsChecked, or an error wrapping errs.ErrNotFound if there is none.
func (l *sqliteLedger) GetChecked(ctx context.Context, id string) (Checked, error) {
	rows, err := l.db.QueryContext(ctx, checkedColumns+` WHERE r.id = ?`, id)
	if err != nil {
		return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l.path, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l.path, err)
		}
		return Checked{}, fmt.Errorf("ledger record %q: %w", id, errs.ErrNotFound)
	}
	c, err := scanChecked(rows)
	if err != nil {
		return Checked{}, fmt.Errorf("reading ledger record %q from %s: %w", id, l.path, err)
	}
	return c, nil
}
