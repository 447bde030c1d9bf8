package ledger

import (
	"context"
	"errors"
	"time"
)

// ErrHeadMoved is returned by Append when the chain's head is no longer the
// one the caller expected: another promoter appended first. Re-read, re-check
// and retry.
var ErrHeadMoved = errors.New("ledger head moved")

// Query selects records; zero fields do not filter. Results are newest first.
type Query struct {
	App    string
	Env    string
	Kinds  []Kind
	Digest string
	Actor  string    // the actor's identity, exactly
	Since  time.Time // inclusive; zero = no bound
	Until  time.Time // exclusive; zero = no bound
	Limit  int       // 0 = no limit
	Offset int       // records to skip (newest first) before Limit applies: paging
}

// Matches reports whether rec passes q's filters (not Limit or Offset), for
// backends that filter in memory.
func (q Query) Matches(rec Record) bool {
	switch {
	case q.App != "" && rec.App != q.App,
		q.Env != "" && rec.Env != q.Env,
		q.Digest != "" && rec.Digest != q.Digest,
		q.Actor != "" && rec.Actor.Identity != q.Actor,
		!q.Since.IsZero() && rec.Time.Before(q.Since),
		!q.Until.IsZero() && !rec.Time.Before(q.Until):
		return false
	}
	if len(q.Kinds) == 0 {
		return true
	}
	for _, k := range q.Kinds {
		if rec.Kind == k {
			return true
		}
	}
	return false
}

// Problem is one record that does not check out.
type Problem struct {
	App      string `json:"app"`
	Env      string `json:"env"`
	Seq      int64  `json:"seq"`
	RecordID string `json:"id,omitempty"`
	Leaf     *int64 `json:"leaf,omitempty"` // the log's leaf the problem is with, if it is one
	Msg      string `json:"problem"`
}

// Report is the result of Verify. Problems is ordered by chain then seq; the
// first entry is the first record that does not check out.
type Report struct {
	Chains   int        `json:"chains"`
	Records  int        `json:"records"`
	Problems []Problem  `json:"problems"`
	Log      *LogReport `json:"log,omitempty"` // set by Audit
}

// OK reports whether every record checked out.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Ledger is the append-only store of records. Implementations are safe for
// concurrent use by several goroutines and, for shared backends, processes.
type Ledger interface {
	// Head returns the head of the chain of app in env (zero if empty).
	Head(ctx context.Context, app, env string) (Head, error)
	// Append adds rec as the record after expected, setting rec.Seq,
	// rec.PrevHash and rec.Hash. It returns ErrHeadMoved, and stores
	// nothing, if the chain's head is not expected.
	Append(ctx context.Context, rec *Record, expected Head) error
	// Records returns the records matching q, newest first: by seq within one
	// chain (App and Env both set), else by time, then seq. Each record is
	// checked as it is read (see Checked); if one does not check out, Records
	// returns a *TamperedError (ErrTampered) instead: decisions are read
	// only from records that check out.
	Records(ctx context.Context, q Query) ([]Record, error)
	// RecordsChecked returns the records matching q like Records, each with
	// the result of its check instead of an error: for history.
	RecordsChecked(ctx context.Context, q Query) ([]Checked, error)
	// Get returns the record with the given id, checked like Records: an
	// error wrapping errs.ErrNotFound if there is none, ErrTampered if it
	// does not check out.
	Get(ctx context.Context, id string) (Record, error)
	// GetChecked returns the record with the given id like Get, with the
	// result of its check instead of ErrTampered: for show.
	GetChecked(ctx context.Context, id string) (Checked, error)
	// Lock serialises writers of one app in one environment (across
	// processes for shared backends) until the returned Lease is released.
	// A holder checks the lease before each write (Lease.Check) and works
	// under Lease.Watch: on S3 a lease can be lost.
	Lock(ctx context.Context, app, env string) (Lease, error)
	// Verify checks every chain: hashes, links, sequence numbers. Audit
	// adds the log.
	Verify(ctx context.Context) (Report, error)
	Close() error
	// Log reads the transparency log of every record (log.go).
	Log
	// Upgrader logs the records the log does not hold yet.
	Upgrader
}
