package ecremu_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

const (
	region   = "eu-central-1"
	acctA    = "111111111111"
	acctB    = "222222222222"
	akidB    = "AKIAECREMULATOR00002"
	secretB  = "second/account/secret/key/000000000000"
	testRepo = "dev/app"
)

// startTwoAccounts starts an emulator hosting acctA (default credentials)
// and acctB (akidB/secretB).
func startTwoAccounts(t *testing.T) *ecremu.Server {
	t.Helper()
	return ecremu.Start(t, ecremu.Options{
		Accounts: []string{acctA, acctB},
		Credentials: []ecremu.Credential{
			{AccessKeyID: ecremu.DefaultAccessKeyID, SecretAccessKey: ecremu.DefaultSecretAccessKey, Account: acctA},
			{AccessKeyID: akidB, SecretAccessKey: secretB, Account: acctB},
		},
	})
}

// newClient is the real SDK client, pointed at the emulator with static
// credentials and a retryer whose backoff is short enough for tests.
func newClient(t testing.TB, srv *ecremu.Server, akid, secret string, opts ...func(*ecr.Options)) *ecr.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithRetryer(func() aws.Retryer {
			return retry.AddWithMaxBackoffDelay(retry.NewStandard(), 5*time.Millisecond)
		}),
	)
	require.NoError(t, err)
	return ecr.NewFromConfig(cfg, append([]func(*ecr.Options){func(o *ecr.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	}}, opts...)...)
}

func defaultClient(t testing.TB, srv *ecremu.Server) *ecr.Client {
	return newClient(t, srv, ecremu.DefaultAccessKeyID, ecremu.DefaultSecretAccessKey)
}

// keychain maps registry hosts to Basic credentials.
type keychain map[string]authn.Authenticator

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := k[r.RegistryStr()]; ok {
		return a, nil
	}
	return authn.Anonymous, nil
}

// ecrKeychain turns GetAuthorizationToken into a go-containerregistry
// keychain keyed by each proxyEndpoint's host.
func ecrKeychain(t testing.TB, client *ecr.Client, registryIDs ...string) keychain {
	t.Helper()
	//lint:ignore SA1019 the emulator answers the deprecated field as ECR still does
	out, err := client.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{RegistryIds: registryIDs})
	require.NoError(t, err)
	kc := keychain{}
	for _, d := range out.AuthorizationData {
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
		require.NoError(t, err)
		user, password, ok := strings.Cut(string(raw), ":")
		require.True(t, ok)
		u, err := url.Parse(aws.ToString(d.ProxyEndpoint))
		require.NoError(t, err)
		kc[u.Host] = &authn.Basic{Username: user, Password: password}
	}
	return kc
}

// remoteOpts are go-containerregistry options using kc, with quick retries.
func remoteOpts(kc authn.Keychain) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(kc),
		remote.WithRetryBackoff(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 3})}
}

// ref parses a reference on the account's registry host.
func ref(t testing.TB, srv *ecremu.Server, account, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(srv.RegistryHost(account)+"/"+s, name.Insecure)
	require.NoError(t, err)
	return r
}

func randomImage(t testing.TB) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	return img
}

func ociImage(t testing.TB) v1.Image {
	t.Helper()
	img := mutate.MediaType(randomImage(t), types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	require.NoError(t, err)
	return h.String()
}

func rawManifest(t testing.TB, m interface{ RawManifest() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.RawManifest()
	require.NoError(t, err)
	return b
}

// apiCode is the AWS error code of err ("" if none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// registryError is the first registry error code and the HTTP status of err.
func registryError(t testing.TB, err error) (int, string, string) {
	t.Helper()
	var te *transport.Error
	require.ErrorAs(t, err, &te)
	if len(te.Errors) == 0 {
		return te.StatusCode, "", ""
	}
	return te.StatusCode, string(te.Errors[0].Code), te.Errors[0].Message
}

// createRepo creates a repository through the SDK.
func createRepo(t testing.TB, client *ecr.Client, name string, mutability string, filters ...string) {
	t.Helper()
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name), ImageTagMutability: ecrMutability(mutability)}
	for _, f := range filters {
		in.ImageTagMutabilityExclusionFilters = append(in.ImageTagMutabilityExclusionFilters, exclusion(f))
	}
	_, err := client.CreateRepository(context.Background(), in)
	require.NoError(t, err)
}

// do sends a raw data-plane request with the keychain's credentials.
func do(t testing.TB, kc keychain, method, rawURL string, body []byte, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(string(body)))
	require.NoError(t, err)
	if a, ok := kc[req.URL.Host]; ok {
		cfg, err := a.Authorization()
		require.NoError(t, err)
		req.SetBasicAuth(cfg.Username, cfg.Password)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
