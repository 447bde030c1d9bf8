package sigverify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKey(t *testing.T) {
	cases := []struct {
		file, err string
	}{
		{file: "cosign.pub"}, // cosign generate-key-pair: ECDSA P-256
		{file: "ecdsa-p384.pub"},
		{file: "ed25519.pub"},
		{file: "rsa-2048.pub"},
		{file: "rsa-1024.pub", err: "RSA keys shorter than 2048 bits are refused"},
		{file: "ecdsa-p224.pub", err: "ECDSA curve P-224 is not supported"},
		{file: "not-a-key.pub", err: "keys/not-a-key.pub is not a PEM public key"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			k, err := ParseKey("keys/"+c.file, readFixture(t, "keys", c.file))
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				assert.Contains(t, err.Error(), "keys/"+c.file, "the error names the file")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "keys/"+c.file, k.Name)
			blk, _ := pem.Decode(readFixture(t, "keys", c.file))
			pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
			require.NoError(t, err)
			der, err := x509.MarshalPKIXPublicKey(pub)
			require.NoError(t, err)
			sum := sha256.Sum256(der)
			assert.Equal(t, hex.EncodeToString(sum[:])[:16], k.ID, "key ID is the DER SHA-256, 16 hex chars")
			assert.Equal(t, "keys/"+c.file+" (key "+k.ID+")", k.String())
		})
	}
}

func TestNewVerifierNeedsTrust(t *testing.T) {
	_, err := New()
	assert.ErrorContains(t, err, "no keys and no identities")
	_, err = New(WithIdentities(nil, Identity{Issuer: "https://issuer", Subject: ".*"}))
	assert.ErrorContains(t, err, "identities need a trusted root")
	_, err = New(WithKeys(nil))
	assert.ErrorContains(t, err, "nil key")
}
