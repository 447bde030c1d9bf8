package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

// s3Bucket is the bucket of the in-process S3 that withS3Ledger starts.
const s3Bucket = "ledger"

// s3Store is an in-process S3 (gofakes3, in memory) holding a world's
// ledger, with direct access to its objects as another runner would have.
type s3Store struct {
	t       testing.TB
	backend *s3mem.Backend
	client  *s3.Client // another runner's
}

// withS3Ledger puts the world's ledger on an in-process S3 at
// s3://ledger/audit, reached the AWS way (AWS_ENDPOINT_URL_S3 and
// credentials in the environment), and the store in w.s3. t.Setenv: the
// test must not be parallel.
func withS3Ledger() worldOption {
	return func(w *world) {
		w.s3 = newS3Store(w.t)
		w.ledger = "s3://" + s3Bucket + "/audit"
	}
}

func newS3Store(t testing.TB) *s3Store {
	t.Helper()
	s := &s3Store{t: t, backend: s3mem.New()}
	srv := httptest.NewServer(gofakes3.New(s.backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	require.NoError(t, s.backend.CreateBucket(s3Bucket))
	s.client = s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		// gofakes3 keeps an overwritten object's metadata, checksums
		// included: a PUT must send its own, as promote's client does.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_ENDPOINT_URL": "", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return s
}

// object reads the object at key.
func (s *s3Store) object(key string) []byte {
	s.t.Helper()
	obj, err := s.backend.GetObject(s3Bucket, key, nil)
	require.NoError(s.t, err, key)
	defer obj.Contents.Close()
	data, err := io.ReadAll(obj.Contents)
	require.NoError(s.t, err)
	return data
}

// stealLease overwrites the writer lease of app in env as a runner that
// found it expired and took it over would leave it: another holder, already
// expired, so that the next Lock takes it at once.
func (s *s3Store) stealLease(app, env string) {
	s.t.Helper()
	key := "audit/locks/" + app + "/" + env
	var ls map[string]any
	require.NoError(s.t, json.Unmarshal(s.object(key), &ls), "the lease object of %s in %s", app, env)
	require.NotEqual(s.t, "thief", ls["holder"])
	data, err := json.Marshal(map[string]any{"holder": "thief", "expires": time.Now().Add(-time.Second).UTC()})
	require.NoError(s.t, err)
	_, err = s.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	require.NoError(s.t, err, key)
}
