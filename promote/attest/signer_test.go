package attest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// The keys in testdata/attest were made by `cosign generate-key-pair` (v2.6.5)
// and openssl; each loads the way cosign reads it, and the public key
// LoadSigner derives is the one cosign wrote beside it.
func TestLoadSignerKeyFormats(t *testing.T) {
	for name, c := range map[string]struct {
		key, pub string
		env      map[string]string
		passEnv  string
	}{
		"cosign encrypted, PROMOTE_ATTEST_KEY_PASSWORD": {"cosign.key", "cosign.pub", map[string]string{DefaultPasswordEnv: fixturePassword}, ""},
		"cosign encrypted, COSIGN_PASSWORD":             {"cosign.key", "cosign.pub", map[string]string{CosignPasswordEnv: fixturePassword}, ""},
		"cosign encrypted, configured variable":         {"cosign.key", "cosign.pub", map[string]string{"RELEASE_KEY_PW": fixturePassword}, "RELEASE_KEY_PW"},
		"cosign encrypted, empty password":              {"cosign-empty.key", "cosign-empty.pub", map[string]string{CosignPasswordEnv: ""}, ""},
		"PKCS#8, no password needed":                    {"pkcs8.key", "pkcs8.pub", nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{DefaultPasswordEnv, CosignPasswordEnv} {
				unsetenv(t, k)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			s, err := LoadSigner(filepath.Join(fixtures, c.key), c.passEnv)
			require.NoError(t, err)
			pem, err := s.PublicKeyPEM()
			require.NoError(t, err)
			assert.Equal(t, string(fixture(t, c.pub)), string(pem))
			assert.Len(t, s.Key().ID, 16)
			assert.Contains(t, s.String(), c.key+" (key "+s.Key().ID+")")
		})
	}
}

// PROMOTE_ATTEST_KEY_PASSWORD wins over COSIGN_PASSWORD.
func TestLoadSignerPrefersPromotePassword(t *testing.T) {
	t.Setenv(DefaultPasswordEnv, fixturePassword)
	t.Setenv(CosignPasswordEnv, "wrong")
	_, err := LoadSigner(filepath.Join(fixtures, "cosign.key"), "")
	require.NoError(t, err)
}

func TestLoadSignerRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		key     string
		env     map[string]string
		passEnv string
		want    string
	}{
		"wrong password":        {"cosign.key", map[string]string{DefaultPasswordEnv: "nope"}, "", "cannot decrypt it (wrong password?)"},
		"no password variable":  {"cosign.key", nil, "", "neither PROMOTE_ATTEST_KEY_PASSWORD nor COSIGN_PASSWORD is set"},
		"configured var unset":  {"cosign.key", map[string]string{DefaultPasswordEnv: fixturePassword}, "RELEASE_KEY_PW", "RELEASE_KEY_PW is not set"},
		"Ed25519 key":           {"ed25519.key", nil, "", "promote signs attestations with ECDSA keys"},
		"a public key":          {"cosign.pub", nil, "", "unknown private key PEM file type: PUBLIC KEY"},
		"not PEM":               {"README.md", nil, "", "not a PEM private key"},
		"missing file":          {"absent.key", nil, "", "no such file"},
		"empty-password key, 1": {"cosign-empty.key", map[string]string{DefaultPasswordEnv: "x"}, "", "wrong password?"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{DefaultPasswordEnv, CosignPasswordEnv, "RELEASE_KEY_PW"} {
				unsetenv(t, k)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, err := LoadSigner(filepath.Join(fixtures, c.key), c.passEnv)
			require.Error(t, err)
			assert.ErrorIs(t, err, errs.ErrConfig, "a bad key is a configuration error (exit 2)")
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestNewSignerNeedsAPasswordForAnEncryptedKey(t *testing.T) {
	_, err := NewSigner("cosign.key", fixture(t, "cosign.key"), nil)
	assert.ErrorContains(t, err, "the key is encrypted and no password was given")
	_, err = NewSigner("cosign-empty.key", fixture(t, "cosign-empty.key"), []byte{})
	assert.NoError(t, err, "an empty password is a password")
}
