package ecremu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

// A prod registry in a second account: its own host, its own repositories,
// and a token from account A gets in only once B grants A.
func TestSecondAccountRegistry(t *testing.T) {
	srv := startTwoAccounts(t)
	clientA := defaultClient(t, srv)
	clientB := newClient(t, srv, akidB, secretB)
	createRepo(t, clientA, "test/app", ecremu.Immutable)
	createRepo(t, clientB, "app", ecremu.Immutable)
	kcA := ecrKeychain(t, clientA, acctA, acctB) // proxyEndpoint of both registries
	kcB := ecrKeychain(t, clientB)
	require.Contains(t, kcA, srv.RegistryHost(acctB))
	img := randomImage(t)

	require.NoError(t, remote.Write(ref(t, srv, acctB, "app:1.0.0"), img, remoteOpts(kcB)...))
	_, err := remote.Head(ref(t, srv, acctA, "app:1.0.0"), remoteOpts(kcA)...)
	status, _, _ := registryError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "account A has no repository 'app'")

	resp := do(t, kcA, http.MethodGet, "http://"+srv.RegistryHost(acctB)+"/v2/app/tags/list", nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	var body struct {
		Errors []struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(readAll(t, resp)), &body))
	assert.Equal(t, "DENIED", body.Errors[0].Code)
	assert.Contains(t, body.Errors[0].Message, "arn:aws:iam::111111111111:user/ecremu is not authorized to perform: ecr:ListImages")

	srv.Registry(acctB).GrantAccount(acctA)
	desc, err := remote.Head(ref(t, srv, acctB, "app:1.0.0"), remoteOpts(kcA)...)
	require.NoError(t, err)
	assert.Equal(t, digestOf(t, img), desc.Digest.String())
}

// A request whose Host is an account's real registry name reaches that
// account's registry whatever listener it came in on.
func TestHostNameRouting(t *testing.T) {
	srv := startTwoAccounts(t)
	clientB := newClient(t, srv, akidB, secretB)
	createRepo(t, clientB, "app", ecremu.Immutable)
	password, _ := srv.IssueToken(acctB)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/app/tags/list", nil)
	require.NoError(t, err)
	req.Host = "222222222222.dkr.ecr.eu-central-1.amazonaws.com"
	req.SetBasicAuth("AWS", password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"name":"app","tags":[]}`, readAll(t, resp))
}

func TestCrossAccountControlPlane(t *testing.T) {
	srv := startTwoAccounts(t)
	clientA := defaultClient(t, srv)
	clientB := newClient(t, srv, akidB, secretB)
	ctx := context.Background()
	createRepo(t, clientB, "prod/app", ecremu.Immutable) // no registryId: the caller's account

	out, err := clientB.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	require.NoError(t, err)
	require.Len(t, out.Repositories, 1)
	assert.Equal(t, acctB, aws.ToString(out.Repositories[0].RegistryId))
	assert.Equal(t, []string(nil), srv.Default().Repositories(), "nothing created in account A")

	_, err = clientA.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(acctB)})
	assert.Equal(t, "AccessDeniedException", apiCode(err))
	assert.ErrorContains(t, err, "is not authorized to perform: ecr:DescribeRepositories")

	srv.Registry(acctB).GrantAccount(acctA)
	out, err = clientA.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(acctB)})
	require.NoError(t, err)
	assert.Len(t, out.Repositories, 1)
}

// Prod reached by role: a principal of account A assumes a role of account B
// through the emulator's STS and then acts in B's registry.
func TestAssumeRoleIntoSecondAccount(t *testing.T) {
	srv := startTwoAccounts(t)
	ctx := context.Background()
	roleArn := "arn:aws:iam::222222222222:role/promoter"
	require.NoError(t, srv.AddRole(roleArn, acctA))

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ecremu.DefaultAccessKeyID, ecremu.DefaultSecretAccessKey, "")))
	require.NoError(t, err)
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	who, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, acctA, aws.ToString(who.Account))

	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, roleArn,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "promote-ci" }))
	prod := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err = prod.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})
	require.NoError(t, err)
	assert.Equal(t, []string{"app"}, srv.Registry(acctB).Repositories(), "created in the role's account")

	assumed := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	who, err = assumed.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::222222222222:assumed-role/promoter/promote-ci", aws.ToString(who.Arn))

	kc := ecrKeychain(t, prod)
	require.Contains(t, kc, srv.RegistryHost(acctB), "the token's proxyEndpoint is B's registry")
	require.NoError(t, remote.Write(ref(t, srv, acctB, "app:1.0.0"), randomImage(t), remoteOpts(kc)...))

	_, err = stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/other"),
		RoleSessionName: aws.String("x1")})
	assert.Equal(t, "AccessDenied", apiCode(err))

	// Sessions last an hour. (The SDK's credentials cache runs on the wall
	// clock, so it does not know the emulator's clock moved.)
	srv.Advance(time.Hour)
	_, err = prod.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	assert.Equal(t, "ExpiredTokenException", apiCode(err))
}
