package ecr

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

const account = "111111111111"

func TestRepositoryCreateDescribeAndSetMutability(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)

	info, err := c.DescribeRepository(ctx, account, "test/web")
	require.NoError(t, err, "a missing repository is not an error")
	assert.Nil(t, info)

	created, err := c.CreateRepository(ctx, account, "test/web", CreateOptions{
		Mutability: ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*"}, ScanOnPush: true})
	require.NoError(t, err)
	want := &RepoInfo{Name: "test/web", URI: "111111111111.dkr.ecr.eu-central-1.amazonaws.com/test/web",
		TagMutability: ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*"}, ScanOnPush: true, Encryption: "AES256"}
	assert.Equal(t, want, created)
	info, err = c.DescribeRepository(ctx, account, "test/web")
	require.NoError(t, err)
	assert.Equal(t, want, info, "read back through DescribeRepositories")

	_, err = c.CreateRepository(ctx, account, "test/web", CreateOptions{Mutability: Immutable})
	require.ErrorIs(t, err, ErrRepositoryExists)
	assert.Contains(t, err.Error(), "test/web")

	require.NoError(t, c.SetTagMutability(ctx, account, "test/web", Immutable, nil))
	info, err = c.DescribeRepository(ctx, account, "test/web")
	require.NoError(t, err)
	assert.Equal(t, Immutable, info.TagMutability)
	assert.Empty(t, info.ExclusionFilters, "PutImageTagMutability replaces the filters")

	info, err = c.CreateRepository(ctx, "", "dev/web", CreateOptions{})
	require.NoError(t, err, "the caller's account by default")
	assert.Equal(t, Mutable, info.TagMutability)
	assert.False(t, info.ScanOnPush)
	assert.Equal(t, []string{"dev/web", "test/web"}, srv.Default().Repositories())
}

func TestRepositoryRefusesBadMutabilityBeforeCalling(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)
	_, err = c.CreateRepository(ctx, account, "test/web", CreateOptions{Mutability: Immutable, ExclusionFilters: []string{"sha256-*"}})
	assert.ErrorContains(t, err, "need IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
	_, err = c.CreateRepository(ctx, account, "test/web", CreateOptions{Mutability: "FROZEN"})
	assert.ErrorContains(t, err, `unknown tag mutability "FROZEN"`)
	err = c.SetTagMutability(ctx, account, "test/web", ImmutableWithExclusion, nil)
	assert.ErrorContains(t, err, "needs 1 to 5 exclusion filters")
	assert.Empty(t, srv.Events(), "nothing reached ECR")

	err = c.SetTagMutability(ctx, account, "nope/web", Immutable, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PutImageTagMutability nope/web")
	assert.Contains(t, err.Error(), "RepositoryNotFoundException")
}

func TestRepositoryEncryptionAndOtherAccounts(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)
	require.NoError(t, srv.Registry("222222222222").CreateRepository("web", ecremu.RepositoryConfig{
		Mutability: ecremu.Immutable, Encryption: ecremu.EncryptionConfiguration{EncryptionType: "KMS"}}))

	_, err = c.DescribeRepository(ctx, "222222222222", "web")
	require.Error(t, err, "another account's registry without a grant")
	assert.Contains(t, err.Error(), "of repository web")
	assert.Contains(t, err.Error(), "AccessDenied")

	srv.Registry("222222222222").GrantAccount(account)
	info, err := c.DescribeRepository(ctx, "222222222222", "web")
	require.NoError(t, err)
	assert.Equal(t, "KMS arn:aws:kms:eu-central-1:222222222222:alias/aws/ecr", info.Encryption)
	assert.Equal(t, Immutable, info.TagMutability)
}

func TestLifecyclePolicy(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{})
	require.NoError(t, err)
	_, err = c.LifecyclePolicy(ctx, account, "test/web")
	assert.ErrorContains(t, err, "GetLifecyclePolicy of repository test/web")

	require.NoError(t, srv.Default().CreateRepository("test/web", ecremu.RepositoryConfig{}))
	text, err := c.LifecyclePolicy(ctx, account, "test/web")
	require.NoError(t, err)
	assert.Empty(t, text, "no policy")

	const policy = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`
	require.NoError(t, srv.Default().SetLifecyclePolicy("test/web", policy, time.Now()))
	text, err = c.LifecyclePolicy(ctx, account, "test/web")
	require.NoError(t, err)
	assert.Equal(t, policy, text)
}

func TestDescribeRepositoryRetriesThrottling(t *testing.T) {
	srv := emulated(t)
	ctx := context.Background()
	c, err := New(ctx, Options{MaxBackoff: time.Millisecond})
	require.NoError(t, err)
	srv.Throttle("DescribeRepositories", 2)
	info, err := c.DescribeRepository(ctx, account, "test/web")
	require.NoError(t, err)
	assert.Nil(t, info)
}

func TestOverwritable(t *testing.T) {
	sig := "sha256-" + "ab12" + ".sig"
	for _, tc := range []struct {
		mode    string
		filters []string
		tag     string
		want    bool
	}{
		{Mutable, nil, "1.0", true},
		{Immutable, nil, "1.0", false},
		{Immutable, nil, sig, false},
		{ImmutableWithExclusion, []string{"sha256-*"}, sig, true},
		{ImmutableWithExclusion, []string{"sha256-*"}, "1.0", false},
		{ImmutableWithExclusion, []string{"sha256-*.att"}, sig, false},
		{ImmutableWithExclusion, []string{"current", "*.sig"}, sig, true},
		{MutableWithExclusion, []string{"v*"}, "v1", false},
		{MutableWithExclusion, []string{"v*"}, "latest", true},
	} {
		r := &RepoInfo{TagMutability: tc.mode, ExclusionFilters: tc.filters}
		assert.Equal(t, tc.want, r.Overwritable(tc.tag), "%s %v %s", tc.mode, tc.filters, tc.tag)
	}
	assert.True(t, (&RepoInfo{TagMutability: ImmutableWithExclusion}).ImmutableTags())
	assert.False(t, (&RepoInfo{TagMutability: MutableWithExclusion}).ImmutableTags())
}
