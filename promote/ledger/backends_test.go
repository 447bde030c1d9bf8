package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backend is one ledger backend under the conformance suite: the tests
// that every backend must pass run once for each (forEachBackend), each on
// a fresh, empty store.
type backend struct {
	name string
	new  func(t *testing.T) *store
	says words
}

// words is what a backend's checks say, in its own words, where the
// backends store records differently.
type words struct {
	moved      string // of a record stored at another record's seq
	notRecord  string // of stored bytes `{"id":` that are not a record
	editedKind string // of a rejected record whose kind setKind made a promotion
	lostRace   string // in the ErrHeadMoved of an append after seq 1 when seq 2 exists
}

var backends = []backend{
	{"sqlite", newSQLiteStore, words{
		moved: "column seq", notRecord: "not a valid JSON record",
		editedKind: `column kind "promotion" disagrees with body "rejected"`, lostRace: "is at seq 2, not 1",
	}},
	{"s3", newS3Store, words{
		moved: "the record was moved", notRecord: "object is not a stored record",
		editedKind: "the record was edited", lostRace: "already has seq 2",
	}},
}

// store is the storage of one ledger under test.
type store struct {
	t        *testing.T
	says     words
	location string   // what Open takes
	env      []string // the environment a promoter process needs to open location
	// dial opens a new Ledger on the store, as another process or runner
	// does; it may be called from any goroutine.
	dial func(ctx context.Context) (Ledger, error)
	// dialReadOnly opens the store as OpenReadOnly does.
	dialReadOnly func(ctx context.Context) (Ledger, error)
	// dialKeyed opens a new Ledger that signs checkpoints with key.
	dialKeyed func(ctx context.Context, key *Key) (Ledger, error)
	raw       rawStore // the storage itself, edited behind the ledger's back
	// contents lists everything the store holds, name to a digest of its
	// bytes, to show that something changed nothing.
	contents func() map[string]string
}

// open returns a new Ledger on the store, closed when the test ends.
func (s *store) open() Ledger {
	s.t.Helper()
	l, err := s.dial(context.Background())
	require.NoError(s.t, err)
	s.t.Cleanup(func() { assert.NoError(s.t, l.Close()) })
	return l
}

// forEachBackend runs test as a subtest for every backend, on a new store.
func forEachBackend(t *testing.T, test func(t *testing.T, s *store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.new(t)
			s.says = b.says
			test(t, s)
		})
	}
}

// rawStore edits a ledger's storage as anyone with write access to the
// file or bucket can, with no regard for this package. Records are named
// by chain and the seq they are stored at.
type rawStore interface {
	has(app, env string, seq int64) bool
	remove(app, env string, seq int64)
	swap(app, env string, a, b int64)
	// replace edits the stored bytes of a record, its stored hash kept.
	replace(app, env string, seq int64, old, new string)
	// setKind changes what the backend finds the record by, its stored
	// hash kept: SQLite's kind column; S3 reads bodies, so the body's kind.
	setKind(app, env string, seq int64, kind Kind)
	// rewrite stores rec at rec.Seq re-hashed, with an index that matches.
	rewrite(rec Record)
	// insert moves the records from rec.Seq on up by one and stores rec,
	// re-hashed, at rec.Seq.
	insert(rec Record)
	// corrupt replaces the stored record by data.
	corrupt(app, env string, seq int64, data string)
	// rebuildLog rewrites the transparency log as a writer of the store
	// without the ledger key can: every leaf, tree hash and checkpoint is
	// removed, then the records with the given ids are logged in that
	// order, the tree hashes computed from their stored bodies as an
	// honest writer computes them, and no checkpoint signed.
	rebuildLog(ids []string)
}

// newSQLiteStore is a ledger file in a temporary directory, created by its
// first Open.
func newSQLiteStore(t *testing.T) *store {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.db")
	return &store{
		t:            t,
		location:     path,
		dial:         func(ctx context.Context) (Ledger, error) { return Open(ctx, path) },
		dialReadOnly: func(ctx context.Context) (Ledger, error) { return OpenReadOnly(ctx, path) },
		dialKeyed: func(ctx context.Context, key *Key) (Ledger, error) {
			return OpenWith(ctx, path, Options{Key: key})
		},
		raw:      &sqliteRaw{t: t, path: path},
		contents: func() map[string]string { return dirContents(t, dir) },
	}
}

// sqliteRaw edits the ledger file through SQL; its first edit drops the
// append-only triggers, as anyone with write access to the file can.
type sqliteRaw struct {
	t        *testing.T
	path     string
	db       *sql.DB
	editable bool
}

func (r *sqliteRaw) conn() *sql.DB {
	if r.db == nil {
		r.db = openRaw(r.t, r.path)
	}
	return r.db
}

// exec runs a statement that changes records.
func (r *sqliteRaw) exec(query string, args ...any) {
	r.t.Helper()
	if !r.editable {
		for _, drop := range []string{`DROP TRIGGER records_no_update`, `DROP TRIGGER records_no_delete`} {
			_, err := r.conn().Exec(drop)
			require.NoError(r.t, err, drop)
		}
		r.editable = true
	}
	_, err := r.conn().Exec(query, args...)
	require.NoError(r.t, err, query)
}

const whereSeq = ` WHERE app = ? AND env = ? AND seq = ?`

func (r *sqliteRaw) has(app, env string, seq int64) bool {
	var n int
	require.NoError(r.t, r.conn().QueryRow(`SELECT count(*) FROM records`+whereSeq, app, env, seq).Scan(&n))
	return n > 0
}

func (r *sqliteRaw) remove(app, env string, seq int64) {
	r.exec(`DELETE FROM records`+whereSeq, app, env, seq)
}

func (r *sqliteRaw) swap(app, env string, a, b int64) {
	const aside = 1 << 40
	r.exec(`UPDATE records SET seq = ?`+whereSeq, aside, app, env, a)
	r.exec(`UPDATE records SET seq = ?`+whereSeq, a, app, env, b)
	r.exec(`UPDATE records SET seq = ?`+whereSeq, b, app, env, aside)
}

func (r *sqliteRaw) replace(app, env string, seq int64, old, new string) {
	r.exec(`UPDATE records SET body = replace(body, ?, ?)`+whereSeq, old, new, app, env, seq)
}

func (r *sqliteRaw) setKind(app, env string, seq int64, kind Kind) {
	r.exec(`UPDATE records SET kind = ?`+whereSeq, string(kind), app, env, seq)
}

func (r *sqliteRaw) rewrite(rec Record) {
	body := rehash(r.t, &rec)
	r.exec(`UPDATE records SET id = ?, kind = ?, digest = ?, time = ?, prev_hash = ?, hash = ?, body = ?`+whereSeq,
		rec.ID, string(rec.Kind), rec.Digest, rec.Time.Format(timeLayout), rec.PrevHash, rec.Hash, string(body),
		rec.App, rec.Env, rec.Seq)
}

func (r *sqliteRaw) insert(rec Record) {
	const up = 1 << 40 // two steps: the seqs are UNIQUE on every row at every step
	r.exec(`UPDATE records SET seq = seq + ? WHERE app = ? AND env = ? AND seq >= ?`, up, rec.App, rec.Env, rec.Seq)
	r.exec(`UPDATE records SET seq = seq - ? WHERE app = ? AND env = ? AND seq >= ?`, up-1, rec.App, rec.Env, up)
	body := rehash(r.t, &rec)
	r.exec(`INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rec.ID, rec.App, rec.Env, rec.Seq, string(rec.Kind), rec.Digest,
		rec.Time.Format(timeLayout), rec.PrevHash, rec.Hash, string(body))
}

func (r *sqliteRaw) corrupt(app, env string, seq int64, data string) {
	r.exec(`UPDATE records SET body = ?`+whereSeq, data, app, env, seq)
}

// rehash sets rec.Hash for its body and returns the body.
func rehash(t testing.TB, rec *Record) []byte {
	body, err := rec.Body()
	require.NoError(t, err)
	rec.Hash = HashBody(body)
	return body
}

// newS3Store is a ledger under prefix "audit" in a fresh fake S3.
func newS3Store(t *testing.T) *store {
	f := newFakeS3(t)
	return &store{
		t:        t,
		location: "s3://" + testBucket + "/audit",
		env:      f.s3Env(t),
		dial:     func(context.Context) (Ledger, error) { return f.ledger("audit"), nil },
		dialReadOnly: func(context.Context) (Ledger, error) {
			l := f.ledger("audit")
			l.readOnly = true // as OpenReadOnly sets it
			return l, nil
		},
		dialKeyed: func(_ context.Context, key *Key) (Ledger, error) {
			l := f.ledger("audit")
			l.logSigner = logSigner{key} // as OpenWith sets it
			return l, nil
		},
		raw:      s3Raw{f},
		contents: f.contents,
	}
}

// s3Raw edits the objects of the fake S3 directly.
type s3Raw struct{ f *fakeS3 }

func (r s3Raw) key(app, env string, seq int64) string {
	return fmt.Sprintf("audit/records/%s/%s/%0*d.json", escapeSegment(app), escapeSegment(env), seqDigits, seq)
}

func (r s3Raw) has(app, env string, seq int64) bool { return r.f.exists(r.key(app, env, seq)) }

func (r s3Raw) remove(app, env string, seq int64) { r.f.remove(r.key(app, env, seq)) }

func (r s3Raw) swap(app, env string, a, b int64) {
	ka, kb := r.key(app, env, a), r.key(app, env, b)
	objA, objB := r.f.object(ka), r.f.object(kb)
	r.f.put(ka, objB)
	r.f.put(kb, objA)
}

func (r s3Raw) replace(app, env string, seq int64, old, new string) {
	k := r.key(app, env, seq)
	obj := r.f.object(k)
	require.True(r.f.t, bytes.Contains(obj, []byte(old)), "%s holds %s", k, old)
	r.f.put(k, bytes.Replace(obj, []byte(old), []byte(new), 1))
}

func (r s3Raw) setKind(app, env string, seq int64, kind Kind) {
	var rec Record
	require.NoError(r.f.t, json.Unmarshal(r.f.object(r.key(app, env, seq)), &rec))
	r.replace(app, env, seq, `"kind":"`+string(rec.Kind)+`"`, `"kind":"`+string(kind)+`"`)
}

func (r s3Raw) rewrite(rec Record) {
	body := rehash(r.f.t, &rec)
	key := r.key(rec.App, rec.Env, rec.Seq)
	r.f.put(key, encodeObject(body, rec.Hash))
	ix, err := json.Marshal(idIndex{Record: key})
	require.NoError(r.f.t, err)
	r.f.put(r.f.ledger("audit").idKey(rec.ID), ix)
}

func (r s3Raw) insert(rec Record) {
	top := rec.Seq
	for r.has(rec.App, rec.Env, top+1) {
		top++
	}
	for seq := top; seq >= rec.Seq; seq-- {
		r.f.put(r.key(rec.App, rec.Env, seq+1), r.f.object(r.key(rec.App, rec.Env, seq)))
	}
	r.rewrite(rec)
}

func (r s3Raw) corrupt(app, env string, seq int64, data string) {
	r.f.put(r.key(app, env, seq), []byte(data))
}
