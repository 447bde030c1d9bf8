package sigverify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Key is a trusted public key: ECDSA P-256/P-384/P-521, Ed25519, or RSA of
// 2048, 3072 or 4096 bits. It is safe for concurrent use.
type Key struct {
	// Name says where the key came from (the path as configured).
	Name string
	// ID is the first 16 hex characters of the SHA-256 of the key's DER
	// (PKIX) encoding: stable across files and formats.
	ID string

	pub      crypto.PublicKey
	verifier root.TimeConstrainedVerifier
}

// ParseKey parses a PEM public key ("PUBLIC KEY" or "RSA PUBLIC KEY") named
// name. A key of a type or size cosign cannot sign with is an error.
func ParseKey(name string, pemBytes []byte) (*Key, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PEM public key: %w", name, err)
	}
	return NewKey(name, pub)
}

// NewKey wraps a parsed public key.
func NewKey(name string, pub crypto.PublicKey) (*Key, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	vs, err := keyVerifiers(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: unsupported key (%T): %w", name, pub, err)
	}
	sum := sha256.Sum256(der)
	return &Key{
		Name:     name,
		ID:       hex.EncodeToString(sum[:])[:16],
		pub:      pub,
		verifier: root.NewExpiringKey(anyVerifier(vs), time.Time{}, time.Time{}),
	}, nil
}

// String renders the key as "name (key ID)".
func (k *Key) String() string { return k.Name + " (key " + k.ID + ")" }

// keyVerifiers lists the signature schemes a key is checked with: the
// algorithm registry's default for the key (what cosign v2.2+ and v3 sign
// with), then what older cosign clients used (SHA-256 for every ECDSA
// curve; Ed25519ph beside pure Ed25519).
func keyVerifiers(pub crypto.PublicKey) ([]signature.Verifier, error) {
	if k, ok := pub.(*rsa.PublicKey); ok && k.Size()*8 < 2048 {
		return nil, errors.New("RSA keys shorter than 2048 bits are refused")
	}
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, fmt.Errorf("ECDSA curve %s is not supported", k.Curve.Params().Name)
		}
	}
	def, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, err
	}
	vs := []signature.Verifier{def}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			v, err := signature.LoadECDSAVerifier(k, crypto.SHA256)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
	case ed25519.PublicKey:
		v, err := signature.LoadED25519phVerifier(k)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// anyVerifier accepts a signature that any of its verifiers accepts.
type anyVerifier []signature.Verifier

func (a anyVerifier) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return a[0].PublicKey(opts...)
}

func (a anyVerifier) VerifySignature(sig, msg io.Reader, opts ...signature.VerifyOption) error {
	s, err := io.ReadAll(sig)
	if err != nil {
		return err
	}
	var m []byte
	if msg != nil {
		if m, err = io.ReadAll(msg); err != nil {
			return err
		}
	}
	var first error
	for _, v := range a {
		err := v.VerifySignature(bytes.NewReader(s), bytes.NewReader(m), opts...)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
