//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Server is one running versitygw: a real S3 server (pinned v1.8.0, built
// by `make tools` from tools/go.mod) over a posix directory.
type s3Server struct {
	Endpoint       string // http://127.0.0.1:PORT
	Access, Secret string
}

// versityGW finds the versitygw binary: on PATH (make puts .tools/bin there)
// or in the repository's .tools/bin.
func versityGW(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	p := filepath.Join(filepath.Dir(wd), ".tools", "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("versitygw not found on PATH or at %s: run `make tools` (it installs versitygw from tools/go.mod): %v", p, err)
	}
	return p
}

// startS3 starts versitygw on a free loopback port with a posix backend in a
// temporary directory (and a versioning directory when versioned), waits
// until it answers, and stops it on cleanup; its log and every object it
// stored (with their versions) go to the secret scan then.
func startS3(t *testing.T, versioned bool) *s3Server {
	t.Helper()
	return startS3With(t, versioned, "promote-test", "promote-test-secret")
}

// startS3With is startS3 with the root credentials given.
func startS3With(t *testing.T, versioned bool, access, secret string) *s3Server {
	t.Helper()
	bin := versityGW(t)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		dir := t.TempDir()
		s := &s3Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Access: access, Secret: secret}
		args := []string{"--access", s.Access, "--secret", s.Secret, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet", "posix"}
		if versioned {
			args = append(args, "--versioning-dir", filepath.Join(dir, "versions"))
			if err := os.MkdirAll(filepath.Join(dir, "versions"), 0o700); err != nil {
				t.Fatalf("creating versioning dir: %v", err)
			}
		}
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatalf("creating data dir: %v", err)
		}
		var out syncBuffer
		cmd := exec.Command(bin, append(args, data)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitForHTTP(s.Endpoint, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
				collect("log", "versitygw "+s.Endpoint, []byte(out.String()))
				collectTree("s3-object", dir)
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%w: %s", lastErr, out.String())
	}
	t.Fatalf("versitygw did not start after 5 attempts: %v", lastErr)
	return nil
}

// waitForHTTP waits until url answers anything, or the process exits.
func waitForHTTP(url string, exited chan error) error {
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("versitygw did not answer on %s within 10s", url)
}

// client is an SDK client for the server, for the test's own setup.
func (s *s3Server) client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(s.Access, s.Secret, ""),
	})
}

// createBucket creates a bucket, with Object Lock and a default retention
// (GOVERNANCE, one day) when locked.
func (s *s3Server) createBucket(t *testing.T, name string, locked bool) {
	t.Helper()
	ctx := context.Background()
	_, err := s.client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(locked)})
	if err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	if !locked {
		return
	}
	_, err = s.client().PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(name),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
				Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}},
	})
	if err != nil {
		t.Fatalf("setting Object Lock on bucket %s: %v", name, err)
	}
}

// useS3 points every process this test starts (and the test itself) at s,
// the AWS way: AWS_ENDPOINT_URL_S3 and credentials in the environment, no
// configuration file of the machine. t.Setenv: the test must not be parallel.
func (s *s3Server) useS3(t *testing.T) {
	for _, kv := range s.awsEnv(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// awsEnv is the environment that points a process at s, for a test that
// passes it to its processes (pipeline.env) instead of setting its own.
func (s *s3Server) awsEnv(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{"AWS_ENDPOINT_URL_S3=" + s.Endpoint, "AWS_ENDPOINT_URL=", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + s.Access, "AWS_SECRET_ACCESS_KEY=" + s.Secret, "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none, "AWS_EC2_METADATA_DISABLED=true"}
}

// s3Object reads one object of the bucket, as an auditor would.
func (s *s3Server) s3Object(t *testing.T, bucket, key string) []byte {
	t.Helper()
	out, err := s.client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	return b.Bytes()
}

// keys lists the keys under prefix.
func (s *s3Server) keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

// s3Pipeline is a pipeline whose ledger is s3://bucket/prefix on a fresh
// versitygw.
func s3Pipeline(t *testing.T) (*pipeline, *s3Server) {
	t.Helper()
	s := startS3(t, false)
	s.createBucket(t, "promote-ledger", false)
	s.useS3(t)
	p := newPipeline(t)
	p.ledger = "s3://promote-ledger/ci/ledger"
	p.config = p.writeConfig(p.config, []string{"labels: {}", "nonroot: {}"}, nil)
	return p, s
}

// assertNoLeaseHeld fails if a lock object still names a live holder.
func assertNoLeaseHeld(t *testing.T, s *s3Server, bucket, key string) {
	t.Helper()
	if data := s.s3Object(t, bucket, key); !strings.Contains(string(data), `"released":true`) {
		t.Errorf("lease %s is still held after every process exited: %s", key, data)
	}
}
