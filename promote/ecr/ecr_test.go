package ecr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/vuln"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
)

// emulated starts the ECR emulator with accounts 111… and 222… and points
// the SDK's default chain at it through the environment, the AWS way.
func emulated(t *testing.T) *ecremu.Server {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1", Accounts: []string{"111111111111", "222222222222"}})
	srv.SetEnv(t)
	return srv
}

func TestParseHost(t *testing.T) {
	a, r, ok := ParseHost("111111111111.dkr.ecr.eu-central-1.amazonaws.com")
	assert.True(t, ok)
	assert.Equal(t, "111111111111", a)
	assert.Equal(t, "eu-central-1", r)
	_, r, ok = ParseHost("222222222222.dkr.ecr-fips.us-gov-west-1.amazonaws.com")
	assert.True(t, ok)
	assert.Equal(t, "us-gov-west-1", r)
	for _, h := range []string{"127.0.0.1:5000", "ghcr.io", "11111111111.dkr.ecr.eu-central-1.amazonaws.com", "111111111111.dkr.ecr.eu-central-1.amazonaws.com.evil.io"} {
		_, _, ok := ParseHost(h)
		assert.False(t, ok, h)
	}
}

func TestKeychainCachesTokensAndIgnoresOtherHosts(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)
	host := strings.TrimPrefix(srv.URL, "http://")
	k := NewKeychain(Registry{Host: host, RegistryID: "111111111111", Client: c})

	other, err := name.NewRegistry("ghcr.io")
	require.NoError(t, err)
	a, err := k.Resolve(other)
	require.NoError(t, err)
	assert.Equal(t, authn.Anonymous, a, "other hosts fall through to the next keychain")

	reg, err := name.NewRegistry(host)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		a, err = k.Resolve(reg)
		require.NoError(t, err)
	}
	cfg, err := a.Authorization()
	require.NoError(t, err)
	assert.Equal(t, "AWS", cfg.Username)
	assert.NotEmpty(t, cfg.Password)
	assert.Equal(t, 1, srv.Count("GetAuthorizationToken"), "the token is cached until it nears expiry")

	k.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	_, err = k.Resolve(reg)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count("GetAuthorizationToken"), "an expiring token is renewed")
}

func TestAssumedRoleReachesAnotherAccount(t *testing.T) {
	srv := emulated(t)
	const role = "arn:aws:iam::222222222222:role/promoter"
	require.NoError(t, srv.AddRole(role, "111111111111"))
	c, err := New(context.Background(), Options{RoleArn: role})
	require.NoError(t, err)
	tok, err := c.token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "AWS", tok.user)
	arn, err := c.CallerIdentity(context.Background())
	require.NoError(t, err)
	assert.Contains(t, arn, "222222222222", "the identity is the assumed role's: %s", arn)
}

func TestScanFindingsPollsAndSettles(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)
	reg := srv.Default()
	require.NoError(t, reg.CreateRepository("dev/web", ecremu.RepositoryConfig{}))
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host + "/dev/web:1")
	require.NoError(t, err)
	img := regtest.Image(t, 1, nil, "1000")
	kc := NewKeychain(Registry{Host: host, RegistryID: "111111111111", Client: c})
	require.NoError(t, remote.Write(ref, img, remote.WithAuthFromKeychain(kc)))
	d, err := img.Digest()
	require.NoError(t, err)
	digest := d.String()
	fast := ScanWait{Interval: time.Millisecond}

	raw, err := c.ScanFindings(ctx, "111111111111", "dev/web", digest, fast)
	require.NoError(t, err)
	r, err := vuln.ParseECR(raw)
	require.NoError(t, err)
	assert.Equal(t, "NOT_FOUND", r.Status, "an image ECR never scanned")

	require.NoError(t, reg.SetScan("dev/web", digest, ecremu.Scan{Sequence: []string{"PENDING", "IN_PROGRESS"},
		Findings: []ecremu.Finding{{Name: "CVE-1", Severity: "HIGH", Attributes: []ecremu.Attribute{{Key: "package_name", Value: "openssl"}}}}}))
	before := srv.Count("DescribeImageScanFindings")
	raw, err = c.ScanFindings(ctx, "111111111111", "dev/web", digest, fast)
	require.NoError(t, err)
	r, err = vuln.ParseECR(raw)
	require.NoError(t, err)
	assert.Equal(t, "COMPLETE", r.Status)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, "openssl", r.Findings[0].Package, "SDK output read through ECR's JSON shape")
	assert.Equal(t, 3, srv.Count("DescribeImageScanFindings")-before, "polled through PENDING and IN_PROGRESS")

	require.NoError(t, reg.SetScan("dev/web", digest, ecremu.Scan{Enhanced: true,
		EnhancedFindings: []ecremu.EnhancedFinding{{Severity: "CRITICAL", Status: "ACTIVE", Title: "CVE-2 - zlib",
			PackageVulnerabilityDetails: &ecremu.PackageVulnerabilityDetails{VulnerabilityID: "CVE-2",
				VulnerablePackages: []ecremu.VulnerablePackage{{Name: "zlib", Version: "1.2"}}}}}}))
	before = srv.Count("DescribeImageScanFindings")
	raw, err = c.ScanFindings(ctx, "111111111111", "dev/web", digest, fast)
	require.NoError(t, err)
	r, err = vuln.ParseECR(raw)
	require.NoError(t, err)
	assert.Equal(t, "ACTIVE", r.Status)
	assert.Equal(t, vuln.Critical, r.Findings[0].Severity)
	assert.GreaterOrEqual(t, srv.Count("DescribeImageScanFindings")-before, 2, "enhanced findings are read until two reads agree")

	require.NoError(t, reg.SetScan("dev/web", digest, ecremu.Scan{Status: "IN_PROGRESS"}))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.ScanFindings(short, "111111111111", "dev/web", digest, fast)
	assert.ErrorContains(t, err, "still IN_PROGRESS when the wait ran out")
}

func TestThrottlingIsRetriedThenNamed(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{MaxBackoff: time.Millisecond})
	require.NoError(t, err)
	srv.Throttle("GetAuthorizationToken", 3)
	_, err = c.token(ctx)
	require.NoError(t, err, "three throttled calls are retried")
	assert.Equal(t, 1, srv.Count("GetAuthorizationToken"))
	throttled := 0
	for _, e := range srv.Events() {
		if e.Action == "GetAuthorizationToken" && e.Error == "ThrottlingException" {
			throttled++
		}
	}
	assert.Equal(t, 3, throttled)

	srv.Throttle("GetAuthorizationToken", 100)
	_, err = c.token(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rate limit for GetAuthorizationToken")
	assert.Contains(t, err.Error(), "after 8 attempts")
}
