package attest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/registry"
)

// fixtures is testdata/attest at the module root: keys made by the real
// cosign CLI and openssl (see its README.md), and the golden statement.
var fixtures = filepath.Join("..", "..", "testdata", "attest")

// fixturePassword is the password of testdata/attest/cosign.key.
const fixturePassword = "promote-test"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	require.NoError(t, err)
	return b
}

var (
	signerOnce sync.Once
	signer     *Signer
	signerErr  error
)

// fixtureSigner is testdata/attest/cosign.key decrypted with its password,
// once (scrypt is slow on purpose).
func fixtureSigner(t *testing.T) *Signer {
	t.Helper()
	signerOnce.Do(func() {
		var b []byte
		if b, signerErr = os.ReadFile(filepath.Join(fixtures, "cosign.key")); signerErr == nil {
			signer, signerErr = NewSigner("cosign.key", b, []byte(fixturePassword))
		}
	})
	require.NoError(t, signerErr)
	return signer
}

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// promotion is a complete prod promotion of testDigest into repo.
func promotion(repo, digest string) Promotion {
	return Promotion{
		Environment: "prod", From: "test", App: "web",
		SourceGiven:    "registry.example/test/web:1.4.2",
		SourceResolved: "registry.example/test/web@" + digest,
		Repository:     repo,
		Tags:           []string{"1.4.2", "git-0a1b2c3"},
		Digest:         digest,
		Previous:       "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
		Gates: []verdict.Result{
			{Name: "signed", Verdict: "pass", Reason: "signed by keys/release.pub (sigstore bundle sha256:9f86d081884c…)",
				Evidence: map[string]any{"key": "keys/release.pub", "keyId": "3f2a9c0d1e2b4a5c", "verified": 1, "candidates": 2,
					"rejected": []map[string]string{{"reason": "signature does not verify with any key"}}}},
			{Name: "scan", Verdict: "pass", Reason: "no finding above high",
				Evidence: map[string]any{"counts": map[string]int{"critical": 0, "high": 0, "medium": 3}, "scanner": "trivy 0.58.0"}},
		},
		Record: RecordRef{ID: "01JDQ4Z8M5X7W2K9T3V6B1N0PR", Seq: 7, Hash: "sha256:5d41402abc4b2a76b9719d911017c592ae2c5e1c4e6f2a3b7c9d0e1f2a3b4c5d"},
		Actor: Actor{Identity: "github:octocat", IdentityVia: "ci-env", User: "runner", UserVia: "os-user", Host: "fv-az123-456",
			AWS: "arn:aws:sts::222222222222:assumed-role/promoter/promote", AWSVia: "aws-sts"},
		Time: time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
	}
}

// blobRegistry is *registry.Client with PutBlob for tests, written with
// go-containerregistry (test registries need no credentials).
type blobRegistry struct{ *registry.Client }

func (r blobRegistry) PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error) {
	l := static.NewLayer(data, mt)
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := remote.WriteLayer(repo, l, remote.WithContext(ctx)); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, nil
}

func newClient(t *testing.T) blobRegistry {
	t.Helper()
	c, err := registry.New(registry.Options{Insecure: []string{"127.0.0.1"}})
	require.NoError(t, err)
	return blobRegistry{c}
}

// unsetenv unsets k for the test, restoring it afterwards.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	require.NoError(t, os.Unsetenv(k))
}
