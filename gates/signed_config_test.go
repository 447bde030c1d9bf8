package gates

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The signed gate's configuration is checked when environments.yaml loads:
// every key and the trusted root are read and parsed then, and an error
// names the field and the file as written.
func TestSignedConfig(t *testing.T) {
	cases := []struct {
		name, yaml, err string
	}{
		{name: "one key", yaml: `keys: [keys/cosign.pub]`},
		{name: "every key type", yaml: `keys: [keys/cosign.pub, keys/ecdsa-p384.pub, keys/ed25519.pub, keys/rsa-2048.pub]`},
		{name: "identities with a trusted root", yaml: `
identities:
  - {issuer: https://token.actions.githubusercontent.com, subject: '^https://github.com/acme/.+@refs/heads/main$'}
trustedRoot: trusted_root.json`},
		{name: "keys and identities", yaml: `
keys: [keys/cosign.pub]
identities: [{issuer: https://accounts.google.com, subject: release@acme.example}]
trustedRoot: trusted_root.json`},
		{name: "nothing trusted", yaml: `{}`, err: "keys, identities: at least one key or keyless identity is required"},
		{name: "missing key file", yaml: `keys: [keys/cosign.pub, keys/missing.pub]`, err: "keys[1]: reading public key keys/missing.pub: no such file or directory"},
		{name: "unparsable key file", yaml: `keys: [keys/not-a-key.pub]`, err: "keys[0]: keys/not-a-key.pub is not a PEM public key"},
		{name: "unsupported key", yaml: `keys: [keys/rsa-1024.pub]`, err: "keys[0]: keys/rsa-1024.pub: unsupported key"},
		{name: "a certificate is not a key", yaml: `keys: [trusted_root.json]`, err: "keys[0]: trusted_root.json is not a PEM public key"},
		{name: "identities need a trusted root", yaml: `identities: [{issuer: https://accounts.google.com, subject: a@b.example}]`, err: "trustedRoot: required with identities"},
		{name: "trusted root alone", yaml: `{keys: [keys/cosign.pub], trustedRoot: trusted_root.json}`, err: "trustedRoot: given without identities"},
		{name: "missing trusted root", yaml: `{identities: [{issuer: i, subject: s}], trustedRoot: nowhere.json}`, err: "trustedRoot: reading nowhere.json: no such file or directory"},
		{name: "unparsable trusted root", yaml: `{identities: [{issuer: i, subject: s}], trustedRoot: keys/cosign.pub}`, err: "trustedRoot: keys/cosign.pub is not a sigstore trusted root"},
		{name: "identity without issuer", yaml: `{identities: [{subject: s}], trustedRoot: trusted_root.json}`, err: "identities[0]: issuer is empty"},
		{name: "identity with a bad regexp", yaml: `{identities: [{issuer: i, subject: s}, {issuer: i, subject: '(x'}], trustedRoot: trusted_root.json}`, err: "identities[1]: subject \"(x\" is not a regular expression"},
		{name: "unknown field", yaml: `{keys: [keys/cosign.pub], key: x}`, err: "field key not found"},
	}
	f, ok := Lookup(SignedGate)
	require.True(t, ok)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := f(yamlSettings(c.yaml, signedFixtures))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, g)
		})
	}
}
