package merkle

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// algEd25519 is the note format's algorithm byte for Ed25519 keys.
const algEd25519 = 1

// PublicKey returns the verifier key, in the note vkey form
// (name+hash+base64), of the signer key skey (PRIVATE+KEY+name+hash+base64).
// The note package makes both from one seed but gives no way back from the
// signer key, so the seed is read from skey and the verifier key made by
// note.NewEd25519VerifierKey; note.NewSigner checks skey first.
func PublicKey(skey string) (string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("merkle: ledger key: %w", err)
	}
	// PRIVATE, KEY, name, hash, key: no field before the key holds a '+',
	// and the key's base64 may.
	fields := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(fields[len(fields)-1])
	if err != nil || len(fields) != 5 || len(raw) != 1+ed25519.SeedSize || raw[0] != algEd25519 {
		return "", errors.New("merkle: ledger key: not an Ed25519 note signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return "", fmt.Errorf("merkle: ledger key: %w", err)
	}
	return vkey, nil
}

// CheckVerifier reports whether vkey is a note verifier key.
func CheckVerifier(vkey string) error {
	if _, err := note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("merkle: verifier key: %w", err)
	}
	return nil
}
