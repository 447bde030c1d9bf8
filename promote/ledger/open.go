package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/errs"
)

// Location schemes understood by Open.
const (
	schemeSQLite = "sqlite://"
	schemeS3     = "s3://"
)

// Open opens the ledger at location, creating it if it does not exist.
//
// A plain file path, or the same path behind "sqlite://", selects the embedded
// SQLite backend: the parent directories are created (mode 0700) and the
// database file is created with mode 0600. "s3://bucket/prefix" names the
// shared S3 backend (see openS3: the AWS SDK's default credential chain and
// region, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible
// server); the prefix may be empty. Any other "scheme://", an S3 location
// without a bucket, and an empty location are configuration errors wrapping
// errs.ErrConfig.
func Open(ctx context.Context, location string) (Ledger, error) {
	return OpenWith(ctx, location, Options{})
}

// OpenWith opens the ledger at location as Open does, or as OpenReadOnly
// does when o.ReadOnly is set, signing a checkpoint after each append with
// o.Key when it is set.
func OpenWith(ctx context.Context, location string, o Options) (Ledger, error) {
	if strings.HasPrefix(strings.TrimSpace(location), schemeS3) {
		l, err := openS3(ctx, location)
		if err != nil {
			return nil, err // not a nil *s3Ledger in a non-nil Ledger
		}
		l.readOnly = o.ReadOnly
		l.logSigner = logSigner{o.Key}
		return l, nil
	}
	path, err := sqlitePath(location)
	if err != nil {
		return nil, err
	}
	if o.ReadOnly {
		return openSQLiteReadOnly(ctx, path)
	}
	return openSQLite(ctx, path, o.Key)
}

// ErrReadOnly is wrapped by the error of every write (Append, Lock, and
// Copy into it) to a ledger opened with OpenReadOnly.
var ErrReadOnly = errors.New("ledger opened read-only")

// OpenReadOnly opens the ledger at location, as Open names it, for reading
// only: it creates, migrates and locks nothing, and its Append, Lock and
// Import fail with ErrReadOnly. The read commands use it, so that reading
// changes nothing.
//
// An SQLite file that does not exist (nor its directory) reads as an empty
// ledger, as an S3 prefix that was never written to does: no record was
// ever appended there, and the first write creates it. An SQLite file is
// opened without creating it and with PRAGMA query_only, so SQLite refuses
// any write, and SQLite's own -wal and -shm files are removed again when the
// last connection closes, as after any write (mode=ro would leave them
// behind). A file of another application, or with another schema version,
// is an error naming the version: it is never migrated. On S3, reads never
// move a head hint forward (Head heals a stale hint only when writable).
func OpenReadOnly(ctx context.Context, location string) (Ledger, error) {
	return OpenWith(ctx, location, Options{ReadOnly: true})
}

// writeGuard refuses the writes of a ledger opened with OpenReadOnly; the
// backends embed it and ask it first in Append, Import and Lock.
type writeGuard struct{ readOnly bool }

// writable returns nil, or, on a read-only ledger, an error wrapping
// ErrReadOnly that says what was refused.
func (g writeGuard) writable(what string, ledger any) error {
	if !g.readOnly {
		return nil
	}
	return fmt.Errorf("%s ledger %v: %w", what, ledger, ErrReadOnly)
}

// sqlitePath returns the file path of an SQLite ledger location, or an error
// wrapping errs.ErrConfig that says why location does not name one.
func sqlitePath(location string) (string, error) {
	loc := strings.TrimSpace(location)
	switch {
	case loc == "":
		return "", fmt.Errorf("%w: ledger location is empty: give a file path or sqlite://PATH", errs.ErrConfig)
	case strings.HasPrefix(loc, schemeSQLite):
		path := strings.TrimPrefix(loc, schemeSQLite)
		if path == "" {
			return "", fmt.Errorf("%w: ledger %q names no file: use sqlite://PATH", errs.ErrConfig, location)
		}
		return path, nil
	case strings.Contains(loc, "://"):
		return "", fmt.Errorf("%w: ledger %q: unknown scheme, expected a file path, sqlite://PATH or s3://BUCKET/PREFIX",
			errs.ErrConfig, location)
	}
	return loc, nil
}

// CheckWriter refuses a writer of l that could not sign its log (an error
// wrapping ErrKeyMismatch), or that would refuse to sign it as it is stored
// (ErrLogTampered: the log does not extend its newest signed checkpoint,
// or holds what no holder of the key wrote). app and env name the chain
// the writer is about to append to: on S3, where a record and its leaf
// are separate writes, that chain's newest record must be logged or carry
// the intent of a writer with the key. The engine asks under the chain's
// lock, before a promotion or rollback copies or writes anything, so that
// a refusal comes before any copy.
func CheckWriter(ctx context.Context, l Ledger, app, env string) error {
	var key *Key
	switch b := l.(type) {
	case *sqliteLedger:
		if b.readOnly {
			return nil
		}
		if err := b.checkWriter(ctx); err != nil {
			return err
		}
		key = b.key
	case *s3Ledger:
		if b.readOnly {
			return nil
		}
		if err := b.checkWriter(ctx, app, env); err != nil {
			return err
		}
		key = b.logSigner.key
	}
	if key == nil {
		return nil
	}
	// The record the next one will link to must be what its leaf logs: a
	// head rewritten in place with a fresh hash checks out on its own.
	head, err := l.Records(ctx, Query{App: app, Env: env, Limit: 1})
	if err != nil || len(head) == 0 {
		return err
	}
	return Authentic(ctx, l, head[0], key.Public)
}
