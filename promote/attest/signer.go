package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/sigverify"
)

// Environment variables an encrypted key's password is read from.
const (
	// DefaultPasswordEnv is read first when no other variable is configured.
	DefaultPasswordEnv = "PROMOTE_ATTEST_KEY_PASSWORD"
	// CosignPasswordEnv is cosign's own, read when DefaultPasswordEnv is unset.
	CosignPasswordEnv = "COSIGN_PASSWORD"
)

// encryptedTypes are the PEM types of cosign's encrypted private keys
// (scrypt + NaCl secretbox; "COSIGN" is what cosign before v2 wrote).
var encryptedTypes = map[string]bool{
	string(cryptoutils.EncryptedSigstorePrivateKeyPEMType): true,
	"ENCRYPTED COSIGN PRIVATE KEY":                         true,
	"ENCRYPTED PRIVATE KEY":                                true, // PKCS#8 PBES2
}

// Signer signs promotion statements with one ECDSA key (P-256, as `cosign
// generate-key-pair` makes, or P-384/P-521). It is safe for concurrent use.
type Signer struct {
	name   string // where the key came from
	hint   string // base64 SHA-256 of the public key's DER, cosign v3's bundle hint
	key    *sigverify.Key
	signer signature.Signer
}

// LoadSigner reads a private key in cosign's format from path: cosign's
// encrypted key (ENCRYPTED SIGSTORE PRIVATE KEY) or an unencrypted PKCS#8
// or SEC 1 PEM key. An encrypted key's password is read from the variable
// passwordEnv; with passwordEnv empty, from PROMOTE_ATTEST_KEY_PASSWORD, else
// COSIGN_PASSWORD. A variable set to "" is the empty password (cosign's
// default). Every problem is an error wrapping errs.ErrConfig.
func LoadSigner(path, passwordEnv string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: attestation key: %v", errs.ErrConfig, err)
	}
	var pw []byte
	if blk, _ := pem.Decode(b); blk != nil && encryptedTypes[blk.Type] {
		if pw, err = password(passwordEnv, os.LookupEnv); err != nil {
			return nil, fmt.Errorf("%w: attestation key %s is encrypted: %v", errs.ErrConfig, path, err)
		}
	}
	return NewSigner(path, b, pw)
}

// password reads the key password from env, or from the default variables.
func password(env string, lookup func(string) (string, bool)) ([]byte, error) {
	names := []string{env}
	if env == "" {
		names = []string{DefaultPasswordEnv, CosignPasswordEnv}
	}
	for _, n := range names {
		if v, ok := lookup(n); ok {
			return append([]byte{}, v...), nil
		}
	}
	if env != "" {
		return nil, fmt.Errorf("%s is not set (set it to the key's password; empty for a key made with an empty password)", env)
	}
	return nil, fmt.Errorf("neither %s nor %s is set (set one to the key's password; empty for a key made with an empty password)", DefaultPasswordEnv, CosignPasswordEnv)
}

// NewSigner parses a PEM private key named name (for messages); password
// decrypts an encrypted key and must be non-nil for one (empty is a valid
// password). The key must be ECDSA on P-256, P-384 or P-521.
func NewSigner(name string, pemBytes, password []byte) (*Signer, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: attestation key %s: %s", errs.ErrConfig, name, fmt.Sprintf(format, a...))
	}
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, bad("not a PEM private key")
	}
	if encryptedTypes[blk.Type] && password == nil {
		return nil, bad("the key is encrypted and no password was given")
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		if encryptedTypes[blk.Type] {
			return nil, bad("cannot decrypt it (wrong password?): %v", err)
		}
		return nil, bad("%v", err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, bad("a %T key; promote signs attestations with ECDSA keys (cosign generate-key-pair makes one)", priv)
	}
	switch ec.Curve {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
	default:
		return nil, bad("ECDSA curve %s is not supported; use P-256", ec.Curve.Params().Name)
	}
	// The algorithm registry's default for the key: ECDSA P-256 with
	// SHA-256 (P-384 with SHA-384...), what cosign v2.2+ and v3 sign with.
	sv, err := signature.LoadDefaultSigner(ec)
	if err != nil {
		return nil, bad("%v", err)
	}
	key, err := sigverify.NewKey(name, ec.Public())
	if err != nil {
		return nil, bad("%v", err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(ec.Public())
	if err != nil {
		return nil, bad("%v", err)
	}
	sum := sha256.Sum256(der)
	return &Signer{name: name, hint: base64.StdEncoding.EncodeToString(sum[:]), key: key, signer: sv}, nil
}

// Key is the public key that verifies the signer's attestations.
func (s *Signer) Key() *sigverify.Key { return s.key }

// PublicKeyPEM is the public key as `cosign public-key` prints it, for
// `cosign verify-attestation --key` and admission policies.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	pub, err := s.signer.PublicKey()
	if err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}

// String names the key: "keys/promote.key (key 0123456789abcdef)".
func (s *Signer) String() string { return s.name + " (key " + s.key.ID + ")" }
