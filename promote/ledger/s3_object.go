package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"
)

// Conditions of the S3 object operations, as sentinel errors the callers test
// with errors.Is.
var (
	// errNoObject: the key holds no object.
	errNoObject = errors.New("no such object")
	// errCondition: a conditional write lost, with 412 Precondition Failed
	// (If-None-Match: * on an existing key, If-Match on another ETag) or
	// 409 ConditionalRequestConflict (a concurrent write to the same key).
	errCondition = errors.New("condition not met")
)

// putCond is the condition of a PUT: create only (If-None-Match: *),
// replace only the version with this ETag (If-Match), or none; and the
// object's Content-Type, application/json unless set.
type putCond struct {
	create      bool
	ifMatch     string
	contentType string
}

// classify maps S3's answers onto errNoObject and errCondition, keeping the
// original error in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var code string
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "PreconditionFailed", code == "ConditionalRequestConflict", status == http.StatusPreconditionFailed,
		status == http.StatusConflict && code == "":
		return fmt.Errorf("%w: %w", errCondition, err)
	case code == "NoSuchKey", code == "NotFound", status == http.StatusNotFound && code != "NoSuchBucket":
		return fmt.Errorf("%w: %w", errNoObject, err)
	}
	return err
}

// get returns the object at key and its ETag, or an error wrapping errNoObject.
func (l *s3Ledger) get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := l.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &l.bucket, Key: &key})
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", l.url(key), classify(err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxObject+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", l.url(key), err)
	}
	if len(data) > maxObject {
		// No object this ledger writes comes near it: one that does was
		// put there by someone else, and is not read into memory.
		return nil, "", fmt.Errorf("reading %s: %w: it is over %d MiB, larger than any object the ledger writes",
			l.url(key), ErrLogTampered, maxObject>>20)
	}
	return data, aws.ToString(out.ETag), nil
}

// maxObject bounds what get reads of one object: a record with all its
// gate evidence is a few KiB, every log object less.
const maxObject = 4 << 20

// put writes data at key under cond and returns the new ETag; a lost
// condition is an error wrapping errCondition (or errNoObject for If-Match
// on a key some servers report as missing).
func (l *s3Ledger) put(ctx context.Context, key string, data []byte, cond putCond) (string, error) {
	ctype := cond.contentType
	if ctype == "" {
		ctype = "application/json"
	}
	in := &s3.PutObjectInput{
		Bucket: &l.bucket, Key: &key, Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: &ctype,
	}
	if cond.create {
		in.IfNoneMatch = aws.String("*")
	}
	if cond.ifMatch != "" {
		in.IfMatch = aws.String(cond.ifMatch)
	}
	out, err := l.client.PutObject(ctx, in)
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", l.url(key), classify(err))
	}
	return aws.ToString(out.ETag), nil
}

// getMany reads the objects at keys, l.workers at a time; a missing object
// leaves nil at its index.
func (l *s3Ledger) getMany(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.workers)
	for i, k := range keys {
		g.Go(func() error {
			data, _, err := l.get(gctx, k)
			if errors.Is(err, errNoObject) {
				return nil
			}
			out[i] = data
			return err
		})
	}
	return out, g.Wait()
}

// list calls fn with every key under prefix, in key order.
func (l *s3Ledger) list(ctx context.Context, prefix string, fn func(key string) error) error {
	return l.listAfter(ctx, prefix, "", fn)
}

// listAfter calls fn with every key under prefix after the key after ("":
// from the first), in key order.
func (l *s3Ledger) listAfter(ctx context.Context, prefix, after string, fn func(key string) error) error {
	in := &s3.ListObjectsV2Input{Bucket: &l.bucket, Prefix: &prefix}
	if after != "" {
		in.StartAfter = &after
	}
	p := s3.NewListObjectsV2Paginator(l.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing %s: %w", l.url(prefix), classify(err))
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// listRead lists the keys under prefix, in key order, and reads those that
// keep accepts, l.workers at a time: the objects in the order keep accepted
// their keys, nil for one deleted since the listing.
func (l *s3Ledger) listRead(ctx context.Context, prefix string, keep func(key string) bool) ([][]byte, error) {
	var keys []string
	err := l.list(ctx, prefix, func(key string) error {
		if keep(key) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l.getMany(ctx, keys)
}

// url names an object in messages.
func (l *s3Ledger) url(key string) string { return schemeS3 + l.bucket + "/" + key }
