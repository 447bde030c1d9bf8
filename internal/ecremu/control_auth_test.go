package ecremu_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

// signedPost sends a raw JSON 1.1 request signed with SigV4 by the SDK's
// signer, and returns the status, Content-Type and decoded body.
func signedPost(t *testing.T, srv *ecremu.Server, op, body string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: ecremu.DefaultAccessKeyID, SecretAccessKey: ecremu.DefaultSecretAccessKey}
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ecr", region, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	require.NoError(t, d.Decode(&out), string(raw))
	return resp.StatusCode, resp.Header.Get("Content-Type"), out
}

func TestJSONProtocolOnTheWire(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	status, ctype, out := signedPost(t, srv, "CreateRepository", `{"repositoryName":"wire/test"}`)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, "application/x-amz-json-1.1", ctype)
	created, ok := out["repository"].(map[string]any)["createdAt"].(json.Number)
	require.True(t, ok, "createdAt is a JSON number: %v", out)
	secs, err := created.Float64()
	require.NoError(t, err)
	assert.InDelta(t, float64(time.Now().Unix()), secs, 5, "epoch seconds")

	status, ctype, out = signedPost(t, srv, "DescribeRepositories", `{"repositoryNames":["wire/missing"]}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "application/x-amz-json-1.1", ctype)
	assert.Equal(t, "RepositoryNotFoundException", out["__type"])
	assert.Equal(t, "The repository with name 'wire/missing' does not exist in the registry with id '111111111111'", out["message"])

	status, _, out = signedPost(t, srv, "NoSuchOperation", `{}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "UnknownOperationException", out["__type"])

	resp, err := http.Post(srv.URL+"/", "application/x-amz-json-1.1", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "unsigned, no target")
}

func TestSigV4(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	ctx := context.Background()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	assert.Equal(t, "MissingAuthenticationTokenException", out["__type"])

	cases := []struct {
		name, code string
		client     *ecr.Client
	}{
		{"unknown key", "UnrecognizedClientException", newClient(t, srv, "AKIAUNKNOWN000000000", "whatever")},
		{"wrong secret", "InvalidSignatureException", newClient(t, srv, ecremu.DefaultAccessKeyID, "wrong")},
		{"wrong region", "InvalidSignatureException", newClient(t, srv, ecremu.DefaultAccessKeyID, ecremu.DefaultSecretAccessKey,
			func(o *ecr.Options) { o.Region = "us-east-1" })},
	}
	for _, c := range cases {
		_, err := c.client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		assert.Equal(t, c.code, apiCode(err), c.name)
	}
	_, err = defaultClient(t, srv).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	assert.NoError(t, err)
}

func TestGetAuthorizationToken(t *testing.T) {
	srv := startTwoAccounts(t)
	client := defaultClient(t, srv)
	out, err := client.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	require.NoError(t, err)
	require.Len(t, out.AuthorizationData, 1)
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	require.NoError(t, err)
	user, password, ok := strings.Cut(string(raw), ":")
	require.True(t, ok)
	assert.Equal(t, "AWS", user)
	assert.NotEmpty(t, password)
	assert.Equal(t, srv.URL, aws.ToString(d.ProxyEndpoint))
	assert.WithinDuration(t, time.Now().Add(12*time.Hour), aws.ToTime(d.ExpiresAt), 5*time.Second)

	//lint:ignore SA1019 the emulator answers the deprecated field as ECR still does
	out, err = client.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{RegistryIds: []string{acctA, acctB}})
	require.NoError(t, err)
	require.Len(t, out.AuthorizationData, 2)
	assert.Equal(t, "http://"+srv.RegistryHost(acctB), aws.ToString(out.AuthorizationData[1].ProxyEndpoint))
	assert.NotEqual(t, srv.RegistryHost(acctA), srv.RegistryHost(acctB), "each account has its own registry host")
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{})
	client := defaultClient(t, srv)
	ctx := context.Background()

	srv.Throttle("DescribeRepositories", 2)
	_, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	require.NoError(t, err, "the standard retryer retries ThrottlingException")
	var throttled, ok int
	for _, e := range srv.Events() {
		switch {
		case e.Action == "DescribeRepositories" && e.Error == "ThrottlingException":
			throttled++
		case e.Action == "DescribeRepositories" && e.Error == "":
			ok++
		}
	}
	assert.Equal(t, 2, throttled)
	assert.Equal(t, 1, ok)

	srv.Throttle("DescribeRepositories", 10)
	_, err = client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	assert.Equal(t, "ThrottlingException", apiCode(err))
	var maxed *retry.MaxAttemptsError
	assert.ErrorAs(t, err, &maxed, "gave up after the retryer's attempts")
}
