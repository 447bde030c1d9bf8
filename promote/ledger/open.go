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
// shared S3 backend (see openS3: the AWS SDK's default credential chain and
// region, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible
// server); the prefix may be empty. Any other "scheme://", an S3 location
// without a bucket, and an empty location are configuration errors wrapping
// errs.ErrConfig.
func Open(ctx context.Context, location string) (Ledger, error) {
	if strings.HasPrefix(strings.TrimSpace(location), schemeS3) {
		l, err := openS3(ctx, location)
		if err != nil {
			return nil, err // not a nil *s3Ledger in a non-nil Ledger
		}
		return l, nil
	}
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
