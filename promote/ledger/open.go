package ledger

import (
	"context"
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
// shared S3 backend, which is not available yet. Any other "scheme://", and an
// empty location, is a configuration error wrapping errs.ErrConfig.
func Open(ctx context.Context, location string) (Ledger, error) {
	path, err := sqlitePath(location)
	if err != nil {
		return nil, err
	}
	return openSQLite(ctx, path)
}

// sqlitePath returns the file path of an SQLite ledger location, or an error
// wrapping errs.ErrConfig that says why location does not name one.
func sqlitePath(location string) (string, error) {
	loc := strings.TrimSpace(location)
	switch {
	case loc == "":
		return "", fmt.Errorf("%w: ledger location is empty: give a file path or sqlite://PATH", errs.ErrConfig)
	case strings.HasPrefix(loc, schemeS3):
		return "", fmt.Errorf("%w: ledger %q: the S3 ledger backend is not available yet; use a file path (SQLite)",
			errs.ErrConfig, location)
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
