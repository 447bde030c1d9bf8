package ledger

import (
	"fmt"
	"io"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// Key is a ledger's Ed25519 note key: the signer key that signs its
// checkpoints and the verifier key that checks them. Its name is the log's
// origin, the first line of every checkpoint.
type Key struct {
	signer string // PRIVATE+KEY+origin+hash+key: never printed
	Origin string
	Public string // the verifier key, origin+hash+key
}

// ParseKey reads a note signer key (PRIVATE+KEY+…, surrounding white space
// ignored). The error never quotes the key.
func ParseKey(text string) (*Key, error) {
	skey := strings.TrimSpace(text)
	if !strings.HasPrefix(skey, "PRIVATE+KEY+") {
		return nil, fmt.Errorf("%w: the ledger key is not a note signer key (PRIVATE+KEY+…): make one with promote ledger key --generate", errs.ErrConfig)
	}
	vkey, err := merkle.PublicKey(skey)
	if err != nil {
		return nil, fmt.Errorf("%w: the ledger key does not parse as an Ed25519 note signer key: make one with promote ledger key --generate", errs.ErrConfig)
	}
	origin, _, _ := strings.Cut(vkey, "+")
	return &Key{signer: skey, Origin: origin, Public: vkey}, nil
}

// String names the key by its verifier key: the signer key is never shown.
func (k *Key) String() string { return k.Public }

// logSigner is the key, if any, a backend signs checkpoints with; both
// backends embed it.
type logSigner struct{ key *Key }

// sign returns the signed checkpoint of a tree of size leaves with root.
func (s logSigner) sign(size int64, root merkle.Hash) ([]byte, error) {
	note, err := merkle.Sign(merkle.Checkpoint{Origin: s.key.Origin, Size: size, Root: root}, s.key.signer)
	if err != nil {
		return nil, fmt.Errorf("signing the ledger checkpoint: %w", err)
	}
	return note, nil
}

// checkKey refuses to append to a log whose checkpoints are signed with the
// verifier key signedBy ("" if no checkpoint is signed yet) unless this
// writer holds that very key: a log once signed is signed after every
// append, and never by a second key.
func (s logSigner) checkKey(signedBy, ledger string) error {
	switch {
	case signedBy == "":
		return nil
	case s.key == nil:
		return fmt.Errorf("%w: %w: ledger %s signs its checkpoints with key %s; this promote has no ledger key: "+
			"set ledger.key in the configuration, or PROMOTE_LEDGER_KEY", errs.ErrConfig, ErrKeyMismatch, ledger, signedBy)
	case s.key.Public != signedBy:
		return fmt.Errorf("%w: %w: ledger %s signs its checkpoints with key %s, not with the configured key %s",
			errs.ErrConfig, ErrKeyMismatch, ledger, signedBy, s.key.Public)
	}
	return nil
}

// Options say how OpenWith opens a ledger.
type Options struct {
	// ReadOnly opens it for reading only, as OpenReadOnly does.
	ReadOnly bool
	// Key signs a checkpoint after every append; nil signs none, and
	// appending to a ledger whose checkpoints are signed is then refused.
	Key *Key
}

// generateKey makes a new ledger key named origin: the signer key text and
// the verifier key.
func generateKey(origin string, rand io.Reader) (skey, vkey string, err error) {
	return merkle.KeyPair(origin, rand)
}
