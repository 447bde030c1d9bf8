package ledger

import (
	"context"
	"errors"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// The transparency log. Every record of a ledger, of every chain, is a leaf
// of one Merkle tree in the order it was appended (RFC 6962 hashing, leaf =
// SHA-256(0x00 ‖ the record's stored body)), and after each append a writer
// holding the ledger's note key signs a checkpoint of the tree (C2SP
// signed-note checkpoint: origin, size, root). The per-chain prev_hash links
// stay: they make one chain readable on its own; the tree makes the whole
// history provable to someone who keeps an old checkpoint.
//
// Each backend stores the leaves, the tree's stored hashes (the layout of
// golang.org/x/mod/sumdb/tlog) and the signed checkpoints next to its
// records; the proofs and the audit walk on top of them are shared
// (log_prove.go, log_verify.go).

// ErrNotLogged is wrapped by LeafIndex's error for a record that is in its
// chain but not in the log: written by a promote that kept no log (run
// promote ledger upgrade), or by a writer that stopped between storing the
// record and logging it.
var ErrNotLogged = errors.New("record is not in the ledger's log")

// ErrLogBehind is wrapped by Append's error when the record is stored in
// its chain (and *rec filled) but the log is not complete after it: its
// leaf, log index or checkpoint could not be written (S3, where these are
// separate writes). The record stands; the next append, or promote ledger
// upgrade, completes the log.
var ErrLogBehind = errors.New("the record is stored but the ledger's log is behind")

// ErrKeyMismatch is wrapped by Append's error when the ledger's checkpoints
// are signed with another key than the one it was opened with, or when it
// was opened with none: a writer never leaves a signed log unsigned.
var ErrKeyMismatch = errors.New("ledger key does not match the log")

// Leaf is one leaf of the log: the record it logs and that record's stored
// body, the bytes the leaf hash covers, with the chain and seq the backend
// stores the record at (its index columns or key, which Verify checks
// against the body), so the audit walk need not decode every body. A
// backend that cannot say leaves App empty, and the body is decoded.
type Leaf struct {
	Index    int64
	ID       string
	Body     []byte
	App, Env string
	Seq      int64
}

// Log is the read side of a ledger's transparency log.
type Log interface {
	// LogSize returns the number of leaves in the log.
	LogSize(ctx context.Context) (int64, error)
	// Leaves calls fn with the leaves start ≤ index < end in index order,
	// as stored, and stops at fn's first error, which it returns.
	Leaves(ctx context.Context, start, end int64, fn func(Leaf) error) error
	// LeafIndex returns the index of the leaf that logs record id: an error
	// wrapping errs.ErrNotFound if there is no such record, ErrNotLogged
	// if the record is not logged.
	LeafIndex(ctx context.Context, id string) (int64, error)
	// TreeHashes returns the stored hashes at the given tlog stored-hash
	// indexes (see merkle.Stored), as stored.
	TreeHashes(ctx context.Context, indexes []int64) ([]merkle.Hash, error)
	// Checkpoint returns the newest signed checkpoint the ledger stores (a
	// signed note), or nil if it stores none.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Checkpoints calls fn with every signed checkpoint the ledger stores,
	// oldest first, for the audit walk.
	Checkpoints(ctx context.Context, fn func(note []byte) error) error
}

// Upgrader logs the records of a ledger that its log does not hold yet.
type Upgrader interface {
	// Upgrade adds every record that is not in the log to it, in the order
	// the records were appended, keeping every record and its hash as it
	// is, and signs a checkpoint if the ledger was opened with a key. A log
	// of records no signed checkpoint covers is signed for the first time
	// only with o.SignUnsigned: nothing in the store tells a ledger that
	// never had a key from one whose checkpoints were deleted.
	Upgrade(ctx context.Context, o UpgradeOptions) (Upgraded, error)
}

// UpgradeOptions say what Upgrade may do.
type UpgradeOptions struct {
	// SignUnsigned signs a log that has records and no signed checkpoint:
	// a person's decision, after checking it against any checkpoint kept.
	SignUnsigned bool
}

// Upgraded says what Upgrade did.
type Upgraded struct {
	Logged int   `json:"logged"` // records added to the log
	Size   int64 `json:"size"`   // leaves in the log afterwards
	Signed bool  `json:"signed"` // a checkpoint of the whole log was signed
}

// hashReader reads a log's stored hashes for the tlog functions, which take
// no context.
type hashReader struct {
	ctx context.Context
	log Log
}

func (r hashReader) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	return r.log.TreeHashes(r.ctx, indexes)
}
