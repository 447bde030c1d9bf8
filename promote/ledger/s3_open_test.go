package ledger

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// setAWSEnv points the SDK's default chain at static test credentials and no
// configuration file of the machine.
func setAWSEnv(t *testing.T, kv ...string) {
	none := filepath.Join(t.TempDir(), "none")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
		"AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// Open reaches S3 the AWS way: the SDK reads AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL itself, and an endpoint means path-style addressing.
func TestOpenS3FromEnvironment(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	for _, endpointVar := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		setAWSEnv(t, endpointVar, f.server.URL)
		l, err := Open(ctx, "s3://"+testBucket+"/env/"+endpointVar+"/")
		require.NoError(t, err, endpointVar)
		s3l := l.(*s3Ledger)
		opts := s3l.client.Options()
		assert.True(t, opts.UsePathStyle, endpointVar)
		assert.Equal(t, f.server.URL, aws.ToString(opts.BaseEndpoint), endpointVar)
		assert.Equal(t, defaultRegion, opts.Region, "%s: an endpoint without a region gets %s", endpointVar, defaultRegion)
		assert.Equal(t, "env/"+endpointVar, s3l.prefix)
		appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
		requireLinearChain(t, l, "web", "prod", 1)
		assert.True(t, f.exists("env/"+endpointVar+"/records/web/prod/00000000000000000001.json"))
		require.NoError(t, l.Close())
	}

	// AWS itself: virtual-hosted addressing, the region from the chain.
	setAWSEnv(t, "AWS_REGION", "eu-central-1")
	l, err := Open(ctx, "s3://my-bucket")
	require.NoError(t, err)
	opts := l.(*s3Ledger).client.Options()
	assert.False(t, opts.UsePathStyle)
	assert.Nil(t, opts.BaseEndpoint)
	assert.Equal(t, "eu-central-1", opts.Region)
	assert.Equal(t, "", l.(*s3Ledger).prefix)

	setAWSEnv(t)
	_, err = Open(ctx, "s3://my-bucket/p")
	require.ErrorIs(t, err, errs.ErrConfig, "no region and no endpoint")
	assert.ErrorContains(t, err, "AWS_REGION")
}

func TestOpenS3LocationErrors(t *testing.T) {
	setAWSEnv(t, "AWS_REGION", "eu-central-1")
	for _, loc := range []string{"s3://", "s3:///prefix", "s3://bucket/p?versionId=1"} {
		l, err := Open(context.Background(), loc)
		require.ErrorIs(t, err, errs.ErrConfig, loc)
		assert.Nil(t, l, loc)
	}
}
