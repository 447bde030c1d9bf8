package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrTampered is wrapped by every error about a record that does not check
// out when it is read: the engine never decides from such a record.
var ErrTampered = errors.New("ledger record does not check out")

// VerifyHint is what every error about a record that does not check out
// tells a person to run.
const VerifyHint = "run `promote ledger verify` to check the whole ledger"

// TamperedError names a record that does not check out and says why. It
// matches ErrTampered.
type TamperedError struct {
	App, Env string
	Seq      int64
	ID       string
	Problem  string
}

func (e *TamperedError) Error() string {
	return fmt.Sprintf("%s: %s (%s/%s #%d): %s; %s", ErrTampered, e.ID, e.Env, e.App, e.Seq, e.Problem, VerifyHint)
}

// Is makes a *TamperedError match ErrTampered.
func (e *TamperedError) Is(target error) bool { return target == ErrTampered }

// Checked is a record as read, with the result of its check: its body
// hashes to its stored hash, the fields its backend indexes it by (SQLite's
// columns; S3's key) equal the body's, and it links to the records beside it
// in its chain. Verified is false, and Problem says why, when it does not
// check out; the record's fields are then only what its body claims.
type Checked struct {
	Record
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
}

// Err returns a *TamperedError if c does not check out, else nil.
func (c Checked) Err() error {
	if c.Verified {
		return nil
	}
	return &TamperedError{App: c.App, Env: c.Env, Seq: c.Seq, ID: c.ID, Problem: c.Problem}
}

// lenientReads are a backend's reads that return every record with the
// result of its check: for history and show.
type lenientReads interface {
	RecordsChecked(ctx context.Context, q Query) ([]Checked, error)
	GetChecked(ctx context.Context, id string) (Checked, error)
}

// strictReads gives a backend, which embeds it, the reads decisions rely
// on, Records and Get, made of its lenient reads: a record that does not
// check out is a *TamperedError instead.
type strictReads struct{ lenient lenientReads }

// Records returns the records matching q like RecordsChecked; the first
// that does not check out is a *TamperedError.
func (s strictReads) Records(ctx context.Context, q Query) ([]Record, error) {
	cs, err := s.lenient.RecordsChecked(ctx, q)
	if err != nil {
		return nil, err
	}
	return trusted(cs)
}

// Get returns the record with the given id like GetChecked, or an error
// wrapping errs.ErrNotFound if there is none; one that does not check out
// is a *TamperedError.
func (s strictReads) Get(ctx context.Context, id string) (Record, error) {
	c, err := s.lenient.GetChecked(ctx, id)
	if err != nil {
		return Record{}, err
	}
	return c.Record, c.Err()
}

// trusted returns the records of cs, or the error of the first that does
// not check out.
func trusted(cs []Checked) ([]Record, error) {
	var out []Record
	for _, c := range cs {
		if err := c.Err(); err != nil {
			return nil, err
		}
		out = append(out, c.Record)
	}
	return out, nil
}

// The check of one stored record, shared by Verify (which walks whole
// chains) and by the reads decisions rely on (which check only the records
// they return, against the records beside them): checkBody, the backend's
// comparison of its index with the body, and neighbours.problems or, in
// Verify, seqProblem and linkProblem.

// checkBody decodes a stored body and checks it against its stored hash.
// ok is false if the body is not a record at all.
func checkBody(body []byte, hash string) (rec Record, msgs []string, ok bool) {
	if got := HashBody(body); got != hash {
		msgs = append(msgs, fmt.Sprintf("body hashes to %s, not to its hash %s: the record was edited", got, hash))
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return Record{}, append(msgs, fmt.Sprintf("body is not a valid JSON record: %v", err)), false
	}
	rec.Hash = hash
	return rec, msgs, true
}

// seqProblem says what is wrong with seq where wantSeq was expected; "" if
// nothing.
func seqProblem(seq, wantSeq int64) string {
	switch {
	case seq == wantSeq+1:
		return fmt.Sprintf("seq %d where %d was expected: record %d is missing", seq, wantSeq, wantSeq)
	case seq > wantSeq:
		return fmt.Sprintf("seq %d where %d was expected: records %d..%d are missing", seq, wantSeq, wantSeq, seq-1)
	case seq < wantSeq:
		return fmt.Sprintf("seq %d where %d was expected: seq repeats or goes back", seq, wantSeq)
	}
	return ""
}

// linkProblem says what is wrong with a record's prev_hash given the hash of
// the record before it ("" for the first of a chain); "" if nothing.
func linkProblem(prevHash, wantPrev string) string {
	switch {
	case prevHash == wantPrev:
		return ""
	case wantPrev == "":
		return fmt.Sprintf("first record of its chain has prev_hash %s, expected none", prevHash)
	}
	return fmt.Sprintf("prev_hash %s is not the hash %s of the record before: "+
		"a record before it was changed, removed or inserted", prevHash, wantPrev)
}

// hintProblem says what is wrong with the record at seq with hash, given its
// chain's head hint (S3); "" if nothing or if the hint names another record.
func hintProblem(h Head, seq int64, hash string) string {
	if h.Seq != seq || h.Hash == "" || h.Hash == hash {
		return ""
	}
	return fmt.Sprintf("head hint says seq %d has hash %s, but it has %s: the record was replaced", seq, h.Hash, hash)
}

// neighbours is what a read knows of the records beside one record in its
// chain, as stored.
type neighbours struct {
	before    string // the stored hash of seq-1
	hasBefore bool
	afterPrev string // the prev_hash of seq+1
	hasAfter  bool
	afterGone bool // seq+1 is missing, though records after it exist
	last      bool // no record follows it (S3: checked against the hint)
	hint      Head // the chain's head hint (S3), read before the records; zero if none
}

// problems says what is wrong with the links of the record at seq with
// prev_hash prevHash and hash.
func (n neighbours) problems(seq int64, prevHash, hash string) []string {
	var msgs []string
	switch {
	case seq <= 1:
		if m := linkProblem(prevHash, ""); m != "" {
			msgs = append(msgs, m)
		}
	case !n.hasBefore:
		msgs = append(msgs, fmt.Sprintf("record %d before it is missing", seq-1))
	default:
		if m := linkProblem(prevHash, n.before); m != "" {
			msgs = append(msgs, m)
		}
	}
	switch {
	case n.afterGone:
		msgs = append(msgs, fmt.Sprintf("record %d after it is missing", seq+1))
	case n.hasAfter && n.afterPrev != hash:
		msgs = append(msgs, fmt.Sprintf("the record after it has prev_hash %s, not this record's hash %s: "+
			"this record was edited and re-hashed, or replaced", n.afterPrev, hash))
	}
	if n.last && n.hint.Seq > seq {
		msgs = append(msgs, fmt.Sprintf("head hint names seq %d but no record follows this one: "+
			"records after it were deleted", n.hint.Seq))
	}
	if m := hintProblem(n.hint, seq, hash); m != "" {
		msgs = append(msgs, m)
	}
	return msgs
}

// newChecked is rec with the result of its check.
func newChecked(rec Record, msgs []string) Checked {
	return Checked{Record: rec, Verified: len(msgs) == 0, Problem: strings.Join(msgs, "; ")}
}
