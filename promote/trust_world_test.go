package promote

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger"
)

// ledgerEditor edits the records of a world's ledger behind promote's back,
// as anyone with write access to its store can.
type ledgerEditor interface {
	// editIndex sets what the backend finds one record by (kind or digest),
	// leaving its body and hash: SQLite's column. S3 finds records by their
	// bodies, so there it is the body's field, its stored hash left as it was.
	editIndex(t *testing.T, app, env string, seq int64, field, value string)
	// editBody replaces old by new in one record's body, hash left as it was.
	editBody(t *testing.T, app, env string, seq int64, old, new string)
	// rewrite replaces one record by edit(record), re-hashed, with its index
	// matching: a record that checks out on its own.
	rewrite(t *testing.T, app, env string, seq int64, edit func(*ledger.Record))
}

// ledgerBackends are the backends every trust test runs on: the world's
// options that put its ledger in a SQLite file or an S3 bucket.
var ledgerBackends = []struct {
	name string
	opts []worldOption
}{
	{"sqlite", nil},
	{"s3", []worldOption{withS3Ledger()}},
}

// editor edits the records of w's ledger behind promote's back.
func (w *world) editor() ledgerEditor {
	if w.s3 != nil {
		return &s3Editor{w.s3}
	}
	return &sqliteEditor{path: w.ledger}
}

// sqliteEditor edits the ledger file with database/sql, the append-only
// triggers dropped first.
type sqliteEditor struct{ path string }

func (s *sqliteEditor) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", s.path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range []string{`DROP TRIGGER IF EXISTS records_no_update`, `DROP TRIGGER IF EXISTS records_no_delete`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	return db
}

func (s *sqliteEditor) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	res, err := s.db(t).Exec(query, args...)
	require.NoError(t, err, query)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "one record edited: %s", query)
}

func (s *sqliteEditor) editIndex(t *testing.T, app, env string, seq int64, field, value string) {
	require.Contains(t, []string{"kind", "digest"}, field)
	s.exec(t, `UPDATE records SET `+field+` = ? WHERE app = ? AND env = ? AND seq = ?`, value, app, env, seq)
}

func (s *sqliteEditor) editBody(t *testing.T, app, env string, seq int64, old, new string) {
	s.exec(t, `UPDATE records SET body = replace(body, ?, ?) WHERE app = ? AND env = ? AND seq = ? AND instr(body, ?) > 0`,
		old, new, app, env, seq, old)
}

func (s *sqliteEditor) rewrite(t *testing.T, app, env string, seq int64, edit func(*ledger.Record)) {
	var body string
	require.NoError(t, s.db(t).QueryRow(`SELECT body FROM records WHERE app = ? AND env = ? AND seq = ?`, app, env, seq).Scan(&body))
	var rec ledger.Record
	require.NoError(t, json.Unmarshal([]byte(body), &rec))
	edit(&rec)
	b, err := rec.Body()
	require.NoError(t, err)
	s.exec(t, `UPDATE records SET kind = ?, digest = ?, body = ?, hash = ? WHERE app = ? AND env = ? AND seq = ?`,
		string(rec.Kind), rec.Digest, string(b), ledger.HashBody(b), app, env, seq)
}

// s3Editor edits the objects of an in-process S3 (gofakes3) directly.
type s3Editor struct{ *s3Store }

func (s *s3Editor) key(app, env string, seq int64) string {
	return fmt.Sprintf("audit/records/%s/%s/%020d.json", app, env, seq)
}

// put replaces the object at key. It deletes the old object first: the fake
// would carry its metadata, the SDK's checksum of the old content included,
// over to the new one.
func (s *s3Editor) put(t *testing.T, key string, data []byte) {
	t.Helper()
	_, err := s.backend.DeleteObject(s3Bucket, key)
	require.NoError(t, err, key)
	_, err = s.backend.PutObject(s3Bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(t, err, key)
}

func (s *s3Editor) editIndex(t *testing.T, app, env string, seq int64, field, value string) {
	var rec map[string]any
	require.NoError(t, json.Unmarshal(s.object(s.key(app, env, seq)), &rec))
	old, ok := rec[field].(string)
	require.True(t, ok, "record has a %s", field)
	s.editBody(t, app, env, seq, fmt.Sprintf("%q:%q", field, old), fmt.Sprintf("%q:%q", field, value))
}

func (s *s3Editor) editBody(t *testing.T, app, env string, seq int64, old, new string) {
	key := s.key(app, env, seq)
	obj := s.object(key)
	require.Contains(t, string(obj), old)
	s.put(t, key, bytes.Replace(obj, []byte(old), []byte(new), 1))
}

func (s *s3Editor) rewrite(t *testing.T, app, env string, seq int64, edit func(*ledger.Record)) {
	key := s.key(app, env, seq)
	var rec ledger.Record
	require.NoError(t, json.Unmarshal(s.object(key), &rec))
	edit(&rec)
	body, err := rec.Body()
	require.NoError(t, err)
	rec.Hash = ledger.HashBody(body)
	obj, err := json.Marshal(rec) // the object is the record with its hash last
	require.NoError(t, err)
	s.put(t, key, obj)
}
