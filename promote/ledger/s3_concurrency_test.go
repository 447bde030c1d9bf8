package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// Eight runners, each with a Ledger (and SDK client) of its own, lock the
// chain, read its head and append, all at once.
func TestS3ConcurrentLockedAppendsFromSeparateLedgers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, f := openTestS3(t)
	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			l := f.ledger("audit")
			defer l.Close()
			return promoteLocked(ctx, l, newRecord("web", "prod", digestN(i), time.Now()))
		})
	}
	require.NoError(t, g.Wait())
	l := f.ledger("audit")
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
}

// Without the lease, the conditional PUT alone keeps the chain linear: every
// loser gets ErrHeadMoved, re-reads and retries.
func TestS3ConcurrentUnlockedAppendsRetryOnHeadMoved(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, f := openTestS3(t)
	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			l := f.ledger("audit")
			rec := newRecord("web", "prod", digestN(i), time.Now())
			for ctx.Err() == nil {
				head, err := l.Head(ctx, "web", "prod")
				if err != nil {
					return err
				}
				err = l.Append(ctx, rec, head)
				if !errors.Is(err, ErrHeadMoved) {
					return err
				}
			}
			return ctx.Err()
		})
	}
	require.NoError(t, g.Wait())
	l := f.ledger("audit")
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
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

// Eight promoter processes (the test binary's TestHelperProcess, as for
// SQLite) open s3://ledger/audit through Open, with the endpoint and
// credentials in their environment, and append at once.
func TestS3MultiProcessAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, f := openTestS3(t)
	env := f.s3Env(t)
	var g errgroup.Group
	for i := range writers {
		g.Go(func() error {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(append(os.Environ(), env...),
				helperEnv+"=1", helperLedgerEnv+"=s3://"+testBucket+"/audit", helperDigestEnv+"="+digestN(i))
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("promoter process %d: %w\n%s", i, err, out)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	l := f.ledger("audit")
	requireLinearChain(t, l, "web", "prod", writers)
	requireDistinctDigests(t, l, writers)
}
