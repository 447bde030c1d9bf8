package ledger

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/promote-dev/promote/errs"
)

// defaultRegion is used for an S3-compatible endpoint when the SDK's chain
// names no region: such servers accept any region in the signature.
const defaultRegion = "us-east-1"

// s3Ledger is the shared backend: one object per record in a bucket, written
// with conditional PUTs so that concurrent runners on many machines never
// overwrite each other. The key layout and object format are in s3_keys.go,
// the S3 calls in s3_object.go, finding the head in s3_head.go, the append
// path in s3_append.go, the lease lock in s3_lock.go, reads in s3_query.go,
// the audit walk in s3_verify.go and the bucket's settings in s3_bucket.go;
// the transparency log is written in s3_log.go, its leaf objects and tree
// hashes are in s3_logleaf.go, read in s3_logread.go and healed in
// s3_logheal.go.
type s3Ledger struct {
	strictReads // Records and Get, of RecordsChecked and GetChecked
	writeGuard  // set by OpenReadOnly; a read-only ledger never moves a hint
	logSigner   // the key checkpoints are signed with, if any

	client   *s3.Client
	bucket   string
	prefix   string        // "" or a key prefix without leading or trailing '/'
	leaseTTL time.Duration // how long a lock lease lasts without renewal
	poll     time.Duration // how often a waiting Lock looks at the lease again
	workers  int           // concurrent GETs when reading many records

	mu    sync.Mutex
	known map[chainKey]Record // the newest record of each chain this ledger has seen
	hints map[chainKey]hint   // the head hint objects as last read or written
	log   s3LogState          // what this ledger knows of the log, under mu
}

var _ Ledger = (*s3Ledger)(nil)

// chainKey names one chain.
type chainKey struct{ app, env string }

// openS3 opens the ledger at s3://bucket/prefix with the AWS SDK's default
// configuration chain (environment, shared config and credentials files, SSO,
// web identity, instance roles) and region. The SDK itself reads
// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL (and endpoint_url in the shared
// config); whenever an endpoint is set, requests use path-style addressing,
// which S3-compatible servers expect. Open does not contact S3: a missing
// bucket or credential shows up at the first read or write.
func openS3(ctx context.Context, location string) (*s3Ledger, error) {
	bucket, prefix, err := parseS3Location(location)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: loading AWS configuration: %w", location, err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// A server that sends no checksums (versitygw, many S3-compatible
		// stores) would put an SDK debug line on stderr for every GET.
		o.DisableLogOutputChecksumValidationSkipped = true
		o.UsePathStyle = o.BaseEndpoint != nil
		if o.Region == "" && o.BaseEndpoint != nil {
			o.Region = defaultRegion
		}
	})
	if client.Options().Region == "" {
		return nil, fmt.Errorf("%w: ledger %s: no AWS region: set AWS_REGION or region in ~/.aws/config",
			errs.ErrConfig, location)
	}
	return newS3Ledger(client, bucket, prefix), nil
}

// newS3Ledger returns the ledger in bucket under prefix reached through client.
func newS3Ledger(client *s3.Client, bucket, prefix string) *s3Ledger {
	l := &s3Ledger{
		client:   client,
		bucket:   bucket,
		prefix:   strings.Trim(prefix, "/"),
		leaseTTL: 2 * time.Minute,
		poll:     100 * time.Millisecond,
		workers:  16,
		known:    map[chainKey]Record{},
		hints:    map[chainKey]hint{},
	}
	l.strictReads = strictReads{l}
	return l
}

// parseS3Location splits s3://bucket/prefix; the prefix may be empty.
func parseS3Location(location string) (bucket, prefix string, err error) {
	rest := strings.TrimPrefix(strings.TrimSpace(location), schemeS3)
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%w: ledger %q names no bucket: use s3://BUCKET/PREFIX", errs.ErrConfig, location)
	}
	if strings.ContainsAny(rest, "?#") {
		return "", "", fmt.Errorf("%w: ledger %q: s3://BUCKET/PREFIX takes no query or fragment", errs.ErrConfig, location)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// String names the ledger in messages: s3://bucket/prefix.
func (l *s3Ledger) String() string {
	if l.prefix == "" {
		return schemeS3 + l.bucket
	}
	return schemeS3 + l.bucket + "/" + l.prefix
}

// Close releases nothing: the SDK client holds no resources that need it.
// Locks taken with Lock stay held until released.
func (l *s3Ledger) Close() error { return nil }

// remember records rec as the newest known record of its chain, unless a
// newer one is known already. Records are never rewritten by promote, so a
// remembered record stays true; Verify, which never trusts memory, finds
// objects edited behind promote's back.
func (l *s3Ledger) remember(rec Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := chainKey{rec.App, rec.Env}
	if cur, ok := l.known[k]; !ok || cur.Seq < rec.Seq {
		l.known[k] = rec
	}
}

// knownHead returns the newest record of the chain this ledger has seen.
func (l *s3Ledger) knownHead(app, env string) (Record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.known[chainKey{app, env}]
	return rec, ok
}
