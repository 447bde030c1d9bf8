package ledger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

// testBucket is the bucket every fake S3 starts with.
const testBucket = "ledger"

// fakeS3 is an in-process S3: gofakes3 with its in-memory backend under
// httptest. gofakes3 v1.2.0 implements conditional PUT (If-None-Match: * and
// If-Match, checked atomically under the backend's lock), versioning and
// ListObjectVersions, which is all the ledger needs; it has no Object Lock,
// so the middleware below answers GET ?object-lock with objectLock (or
// ObjectLockConfigurationNotFoundError), for Check.
type fakeS3 struct {
	t       testing.TB
	backend *s3mem.Backend
	server  *httptest.Server

	mu         sync.Mutex
	objectLock string // the XML body of GetObjectLockConfiguration; "" for none
}

func newFakeS3(t testing.TB) *fakeS3 {
	t.Helper()
	f := &fakeS3{t: t, backend: s3mem.New()}
	faker := gofakes3.New(f.backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	f.server = httptest.NewServer(f.middleware(faker.Server()))
	t.Cleanup(f.server.Close)
	require.NoError(t, f.backend.CreateBucket(testBucket))
	return f
}

func (f *fakeS3) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		_, lockQuery := r.URL.Query()["object-lock"]
		switch {
		case r.Method == http.MethodGet && key == "" && lockQuery:
			f.mu.Lock()
			cfg := f.objectLock
			f.mu.Unlock()
			if cfg == "" {
				s3Error(w, http.StatusNotFound, "ObjectLockConfigurationNotFoundError")
				return
			}
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, cfg)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

// client returns a new SDK client for the fake, as a separate runner has.
func (f *fakeS3) client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(f.server.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// ledger returns a new S3 ledger on the fake under prefix.
func (f *fakeS3) ledger(prefix string) *s3Ledger {
	return newS3Ledger(f.client(), testBucket, prefix)
}

// object reads an object directly from the backend, as an auditor would.
func (f *fakeS3) object(key string) []byte {
	f.t.Helper()
	obj, err := f.backend.GetObject(testBucket, key, nil)
	require.NoError(f.t, err, key)
	defer obj.Contents.Close()
	data, err := io.ReadAll(obj.Contents)
	require.NoError(f.t, err)
	return data
}

// put writes an object directly into the backend, bypassing promote.
func (f *fakeS3) put(key string, data []byte) {
	f.t.Helper()
	_, err := f.backend.PutObject(testBucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	require.NoError(f.t, err, key)
}

// remove deletes an object directly from the backend.
func (f *fakeS3) remove(key string) {
	f.t.Helper()
	_, err := f.backend.DeleteObject(testBucket, key)
	require.NoError(f.t, err, key)
}

// exists reports whether key holds an object.
func (f *fakeS3) exists(key string) bool {
	_, err := f.backend.HeadObject(testBucket, key)
	return err == nil
}

// openTestS3 returns a fresh S3 ledger on a fresh fake under prefix "audit".
func openTestS3(t testing.TB) (*s3Ledger, *fakeS3) {
	t.Helper()
	f := newFakeS3(t)
	l := f.ledger("audit")
	t.Cleanup(func() { _ = l.Close() })
	return l, f
}

// s3Env is the environment that points a process's AWS SDK at f, and at
// nothing of the machine's own AWS configuration.
func (f *fakeS3) s3Env(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{
		"AWS_ENDPOINT_URL_S3=" + f.server.URL, "AWS_REGION=eu-central-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// enableVersioning turns versioning on for the test bucket.
func (f *fakeS3) enableVersioning() {
	f.t.Helper()
	_, err := f.client().PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(testBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	})
	require.NoError(f.t, err)
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.all.Add(1)
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") != "":
		c.lists.Add(1)
	case r.Method == http.MethodGet, r.Method == http.MethodHead:
		c.gets.Add(1)
	case r.Method == http.MethodPut:
		c.puts.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// countingLedger returns a ledger whose requests are counted.
func (f *fakeS3) countingLedger(prefix string) (*s3Ledger, *countingTransport) {
	c := &countingTransport{}
	client := s3.New(f.client().Options(), func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: c} })
	return newS3Ledger(client, testBucket, prefix), c
}

// setObjectLock sets the answer to GetObjectLockConfiguration ("" for none).
func (f *fakeS3) setObjectLock(xml string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objectLock = xml
}
