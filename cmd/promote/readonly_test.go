package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger"
)

// The read-only commands open the configuration and the ledger and nothing
// else. The one environment here is in ECR under an AWS profile that does
// not exist, so building its ECR client fails: the commands that build it
// fail, the read-only ones answer from the ledger.
func TestCLIReadCommandsOpenNoRegistryOrECRClient(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config")) // absent: no profile at all
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_PROFILE", "")
	cache := filepath.Join(dir, "cache")
	t.Setenv("PROMOTE_CACHE_DIR", cache)
	const repo = "222222222222.dkr.ecr.eu-central-1.amazonaws.com/web"
	cfg := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`version: 1
ledger: ledger.db
environments:
  - name: prod
    repository: 222222222222.dkr.ecr.eu-central-1.amazonaws.com/{app}
    tags: immutable
    aws: {profile: promote-test-no-such-profile}
`), 0o600))
	digest := fmt.Sprintf("sha256:%064d", 7)
	id := appendRecord(t, filepath.Join(dir, "ledger.db"), &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "prod", Digest: digest})
	c := &harness{t: t, config: cfg}

	start := time.Now()
	code, out, errOut := c.run("current", "prod", "web")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, repo+"@"+digest+"\n", out)
	code, out, errOut = c.run("history", "web", "--env", "prod")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, id)
	code, out, errOut = c.run("show", id)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, digest)
	code, _, errOut = c.run("ledger", "verify")
	require.Equal(t, ExitOK, code, errOut)
	assert.Less(t, time.Since(start), 10*time.Second, "no network was waited on")
	assert.NoDirExists(t, cache, "nor was the blob cache opened")

	for _, args := range [][]string{{"gates", "prod", "web@" + digest}, {"envs", "check", "web"}} {
		code, _, errOut = c.run(args...)
		assert.Equal(t, ExitError, code, "%v builds the ECR client", args)
		assert.Contains(t, errOut, "promote-test-no-such-profile", "%v", args)
	}
}

// A configuration that every command refuses is still refused by the
// read-only ones, though they build no ECR client.
func TestCLIReadCommandsRejectABadECRConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`version: 1
ledger: ledger.db
environments:
  - name: prod
    repository: registry.example.com/{app}
    tags: immutable
    aws: {region: eu-central-1}
`), 0o600))
	c := &harness{t: t, config: cfg}
	for _, args := range [][]string{{"history"}, {"current", "prod", "web"}, {"gates", "prod", "web:1"}} {
		code, _, errOut := c.run(args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "environments[0].aws.registryId", "%v", args)
	}
}

// appendRecord writes rec to the SQLite ledger at path and returns its id.
func appendRecord(t *testing.T, path string, rec *ledger.Record) string {
	ctx := context.Background()
	led, err := ledger.Open(ctx, path)
	require.NoError(t, err)
	defer led.Close()
	head, err := led.Head(ctx, rec.App, rec.Env)
	require.NoError(t, err)
	require.NoError(t, led.Append(ctx, rec, head))
	return rec.ID
}
