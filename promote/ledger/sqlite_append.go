package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// timeLayout is how the time column stores a record's time: RFC 3339 in UTC
// with all nine fraction digits, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Append stores rec as the record after expected in the chain of (rec.App,
// rec.Env). In one IMMEDIATE transaction it checks that the chain's head is
// still expected (else ErrHeadMoved, and nothing is stored), then sets
// rec.Seq, rec.PrevHash and rec.Hash, and fills rec.MediaType, rec.ID and
// rec.Time (now) when they are empty; rec.Time is stored in UTC. On any
// error rec is left as it was.
func (l *sqliteLedger) Append(ctx context.Context, rec *Record, expected Head) (err error) {
	if err := l.writable("appending to", l.path); err != nil {
		return err
	}
	r, err := prepare(rec)
	if err != nil {
		return err
	}

	conn, err := l.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("appending to ledger %s: %w", l.path, err)
	}
	defer conn.Close()
	if err := beginImmediate(ctx, conn); err != nil {
		return fmt.Errorf("appending %s/%s to ledger %s: %w", r.App, r.Env, l.path, err)
	}
	defer func() {
		if err = finishTx(conn, err); err == nil {
			*rec = r
		}
	}()

	head, err := chainHead(ctx, conn, r.App, r.Env)
	if err != nil {
		return fmt.Errorf("appending to ledger %s: %w", l.path, err)
	}
	if head != expected {
		return headMoved(r.App, r.Env, head, expected)
	}
	body, err := r.chainAfter(head)
	if err != nil {
		return err
	}

	_, err = conn.ExecContext(ctx, `INSERT INTO records
		(id, app, env, seq, kind, digest, time, prev_hash, hash, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.App, r.Env, r.Seq, string(r.Kind), r.Digest, r.Time.Format(timeLayout), r.PrevHash, r.Hash, string(body))
	if err != nil {
		return insertError(&r, err)
	}
	return l.logRecord(ctx, conn, &r, body)
}

// headMoved returns ErrHeadMoved saying how the head differs from expected.
func headMoved(app, env string, head, expected Head) error {
	if head.Seq == expected.Seq {
		return fmt.Errorf("%w: %s in %s: head seq %d has hash %s, not %s as expected",
			ErrHeadMoved, app, env, head.Seq, head.Hash, expected.Hash)
	}
	return fmt.Errorf("%w: %s in %s is at seq %d, not %d as expected", ErrHeadMoved, app, env, head.Seq, expected.Seq)
}

// insertError explains a failed INSERT of r: a taken (app, env, seq) means
// another writer won the race (ErrHeadMoved); a taken id is the caller's.
func insertError(r *Record, err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		if strings.Contains(serr.Error(), "records.id") {
			return fmt.Errorf("appending record %s: a record with this id is already in the ledger", r.ID)
		}
		if strings.Contains(serr.Error(), "records.seq") {
			return fmt.Errorf("%w: %s in %s already has seq %d", ErrHeadMoved, r.App, r.Env, r.Seq)
		}
	}
	return fmt.Errorf("appending record %s (%s in %s, seq %d): %w", r.ID, r.App, r.Env, r.Seq, err)
}

// prepare validates rec and returns the copy an Append stores: media type,
// id and time (UTC) filled when empty, hash cleared. Both backends append
// what it returns, and leave rec as it was on any error.
func prepare(rec *Record) (Record, error) {
	if rec == nil {
		return Record{}, errors.New("appending to ledger: record is nil")
	}
	if err := validate(rec); err != nil {
		return Record{}, err
	}
	if b, err := json.Marshal(rec); err != nil {
		return Record{}, fmt.Errorf("encoding record: %w", err)
	} else if len(b) > MaxRecordBytes {
		return Record{}, fmt.Errorf("invalid ledger record (app %q, env %q): %d bytes, over the %d a ledger stores (every backend must read back what it stores)",
			rec.App, rec.Env, len(b), MaxRecordBytes)
	}
	r := *rec
	if r.MediaType == "" {
		r.MediaType = MediaType
	}
	if r.ID == "" {
		r.ID = newID()
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	r.Hash = ""
	return canonical(r)
}

// chainAfter makes r the record after head in its chain, as both backends
// append it: it sets r.Seq and r.PrevHash from head, then r.Hash, and
// returns the body the hash covers.
func (r *Record) chainAfter(head Head) ([]byte, error) {
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	body, err := r.Body()
	if err != nil {
		return nil, err
	}
	r.Hash = HashBody(body)
	return body, nil
}

// canonical returns r as a reader of the ledger will decode it: encoded and
// decoded once. Gate evidence holds what the gates give: structs, whose
// fields encode in declaration order but decode into maps that encode in key
// order, and integers beyond 2^53, which decode as float64; and text may not
// be valid UTF-8 (encoded as \ufffd escapes, decoded as U+FFFD). Without this
// a record read back would re-encode to another body than the one its hash
// covers, and ledger copy (Import) would refuse it.
func canonical(r Record) (Record, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("encoding record %s: %w", r.ID, err)
	}
	var out Record
	if err := json.Unmarshal(b, &out); err != nil {
		return Record{}, fmt.Errorf("decoding record %s: %w", r.ID, err)
	}
	return out, nil
}

// MaxRecordBytes bounds a record's JSON: the S3 ledger reads no object
// over 4 MiB, so a larger record, once stored, would lock its chain.
const MaxRecordBytes = 3 << 20

// validate reports the first field of rec that Append cannot store.
func validate(rec *Record) error {
	var missing string
	switch {
	case rec.App == "":
		missing = "app"
	case rec.Env == "":
		missing = "env"
	case rec.Kind == "":
		missing = "kind"
	case rec.Digest == "" && rec.Kind != KindFreeze && rec.Kind != KindUnfreeze:
		missing = "digest"
	}
	if missing != "" {
		return fmt.Errorf("invalid ledger record (app %q, env %q): %s is empty", rec.App, rec.Env, missing)
	}
	if !slices.Contains(Kinds, rec.Kind) {
		return fmt.Errorf("invalid ledger record (app %q, env %q): kind %q is not one of %v", rec.App, rec.Env, rec.Kind, Kinds)
	}
	return nil
}

// queryer is what chainHead needs of *sql.DB and *sql.Conn.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// chainHead reads the head of the chain of app in env; the zero Head if empty.
func chainHead(ctx context.Context, q queryer, app, env string) (Head, error) {
	var h Head
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM records
		WHERE app = ? AND env = ? ORDER BY seq DESC LIMIT 1`, app, env).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("reading head of %s in %s: %w", app, env, err)
	}
	return h, nil
}
