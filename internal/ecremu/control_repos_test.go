package ecremu_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

func ecrMutability(m string) ecrtypes.ImageTagMutability { return ecrtypes.ImageTagMutability(m) }

func exclusion(f string) ecrtypes.ImageTagMutabilityExclusionFilter {
	return ecrtypes.ImageTagMutabilityExclusionFilter{
		FilterType: ecrtypes.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(f)}
}

func TestCreateRepository(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()

	out, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:                     aws.String("test/app"),
		ImageTagMutability:                 ecrtypes.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{exclusion("sha256-*")},
		ImageScanningConfiguration:         &ecrtypes.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:            &ecrtypes.EncryptionConfiguration{EncryptionType: ecrtypes.EncryptionTypeKms},
		Tags:                               []ecrtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	})
	require.NoError(t, err)
	r := out.Repository
	assert.Equal(t, "arn:aws:ecr:eu-central-1:111111111111:repository/test/app", aws.ToString(r.RepositoryArn))
	assert.Equal(t, "111111111111.dkr.ecr.eu-central-1.amazonaws.com/test/app", aws.ToString(r.RepositoryUri))
	assert.Equal(t, acctA, aws.ToString(r.RegistryId))
	assert.Equal(t, ecrtypes.ImageTagMutabilityImmutableWithExclusion, r.ImageTagMutability)
	require.Len(t, r.ImageTagMutabilityExclusionFilters, 1)
	assert.Equal(t, "sha256-*", aws.ToString(r.ImageTagMutabilityExclusionFilters[0].Filter))
	assert.True(t, r.ImageScanningConfiguration.ScanOnPush)
	assert.Equal(t, ecrtypes.EncryptionTypeKms, r.EncryptionConfiguration.EncryptionType)
	assert.Equal(t, "arn:aws:kms:eu-central-1:111111111111:alias/aws/ecr", aws.ToString(r.EncryptionConfiguration.KmsKey))
	assert.WithinDuration(t, time.Now(), aws.ToTime(r.CreatedAt), 5*time.Second)

	_, err = client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("test/app")})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	require.ErrorAs(t, err, &exists)
	assert.Equal(t, "The repository with name 'test/app' already exists in the registry with id '111111111111'", exists.ErrorMessage())

	cases := map[string]*ecr.CreateRepositoryInput{
		"InvalidParameterException": {RepositoryName: aws.String("Upper/Case")},
		"ValidationException":       {RepositoryName: aws.String("x/bad-enum"), ImageTagMutability: "SOMETIMES"},
	}
	for code, in := range cases {
		_, err = client.CreateRepository(ctx, in)
		assert.Equal(t, code, apiCode(err), "%+v", in)
	}
	_, err = client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("x/filters"),
		ImageTagMutability:                 ecrtypes.ImageTagMutabilityImmutable,
		ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{exclusion("sha256-*")}})
	var invalid *ecrtypes.InvalidParameterException
	require.ErrorAs(t, err, &invalid, "filters need *_WITH_EXCLUSION")
	_, err = client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("x/nofilters"),
		ImageTagMutability: ecrtypes.ImageTagMutabilityMutableWithExclusion})
	require.ErrorAs(t, err, &invalid, "*_WITH_EXCLUSION needs filters")
}

func TestDescribeRepositories(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	for _, n := range []string{"a/one", "a/two", "a/three"} {
		createRepo(t, client, n, ecremu.Immutable)
	}

	out, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"a/two"}})
	require.NoError(t, err)
	require.Len(t, out.Repositories, 1)
	assert.Equal(t, ecrtypes.ImageTagMutabilityImmutable, out.Repositories[0].ImageTagMutability)
	assert.Equal(t, ecrtypes.EncryptionTypeAes256, out.Repositories[0].EncryptionConfiguration.EncryptionType)

	_, err = client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"a/two", "a/missing"}})
	var nf *ecrtypes.RepositoryNotFoundException
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "The repository with name 'a/missing' does not exist in the registry with id '111111111111'", nf.ErrorMessage())

	var names []string
	pages := ecr.NewDescribeRepositoriesPaginator(client, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		n++
		for _, r := range page.Repositories {
			names = append(names, aws.ToString(r.RepositoryName))
		}
	}
	assert.Equal(t, 2, n, "two pages of at most two")
	assert.Equal(t, []string{"a/one", "a/two", "a/three"}, names, "creation order")
}

func TestPutImageTagMutability(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	createRepo(t, client, testRepo, ecremu.Mutable)

	out, err := client.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:                     aws.String(testRepo),
		ImageTagMutability:                 ecrtypes.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{exclusion("v*"), exclusion("release-*")},
	})
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ImageTagMutabilityMutableWithExclusion, out.ImageTagMutability)
	assert.Len(t, out.ImageTagMutabilityExclusionFilters, 2)
	assert.Equal(t, acctA, aws.ToString(out.RegistryId))

	desc, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{testRepo}})
	require.NoError(t, err)
	assert.Equal(t, ecrtypes.ImageTagMutabilityMutableWithExclusion, desc.Repositories[0].ImageTagMutability)
	assert.Len(t, desc.Repositories[0].ImageTagMutabilityExclusionFilters, 2)

	_, err = client.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("missing/repo"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable})
	assert.Equal(t, "RepositoryNotFoundException", apiCode(err))
	_, err = client.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String(testRepo), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []ecrtypes.ImageTagMutabilityExclusionFilter{exclusion("bad/filter")}})
	assert.Equal(t, "ValidationException", apiCode(err))
}

func TestGetLifecyclePolicy(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()
	createRepo(t, client, testRepo, ecremu.Immutable)

	_, err := client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(testRepo)})
	var nf *ecrtypes.LifecyclePolicyNotFoundException
	require.ErrorAs(t, err, &nf)

	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`
	evaluated := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, srv.Default().SetLifecyclePolicy(testRepo, policy, evaluated))
	out, err := client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(testRepo)})
	require.NoError(t, err)
	assert.Equal(t, policy, aws.ToString(out.LifecyclePolicyText))
	assert.True(t, evaluated.Equal(aws.ToTime(out.LastEvaluatedAt)))
	assert.Equal(t, acctA, aws.ToString(out.RegistryId))

	_, err = client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("missing/repo")})
	assert.Equal(t, "RepositoryNotFoundException", apiCode(err))
}
