package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// Record intents. Where a record, its leaf and the checkpoint that signs
// the leaf are separate writes (S3), a writer can die between them, and
// what it leaves behind (a record no leaf logs, leaves no checkpoint
// covers) looks like what a writer of the store without the key can put
// there. So a writer holding the key first signs an intent: a note, signed
// with the ledger key, that binds the record's id to the hash of its body.
// The next writer logs such a record, or signs over such a leaf, only if
// its intent verifies with the key and names the hash of the body stored:
// a writer without the key can neither make an intent nor reuse one for
// another body. A ledger without a key signs nothing, and so writes no
// intents: nothing there is authenticated.
//
// The note's text is four lines: a header that no checkpoint's origin
// line can be (so neither note passes for the other), the key's name, the
// record id as escapeSegment writes it (any id makes one printable line),
// and the record's hash.
//
//	promote ledger intent
//	example.com/promote/ledger
//	r-0123456789abcdef
//	sha256:…
const intentHeader = "promote ledger intent"

// errNoIntent is wrapped by checkIntent's error: the record has no valid
// intent of the key.
var errNoIntent = errors.New("no intent signed by the ledger key")

// intentText is the text of the intent of record id with hash, signed by
// the key named origin.
func intentText(origin, id, hash string) string {
	return intentHeader + "\n" + origin + "\n" + escapeSegment(id) + "\n" + hash + "\n"
}

// signIntent returns the signed intent of record id whose body hashes to
// hash. Ed25519 signatures are deterministic: the same record always has
// the same intent, byte for byte.
func (s logSigner) signIntent(id, hash string) ([]byte, error) {
	signer, err := note.NewSigner(s.key.signer)
	if err != nil {
		return nil, fmt.Errorf("signing the intent of record %s: the ledger key: %w", id, err)
	}
	msg, err := note.Sign(&note.Note{Text: intentText(s.key.Origin, id, hash)}, signer)
	if err != nil {
		return nil, fmt.Errorf("signing the intent of record %s: %w", id, err)
	}
	return msg, nil
}

// checkIntent checks that msg (nil: there is none) is the intent of record
// id with hash, signed by the key; its error wraps errNoIntent.
func (s logSigner) checkIntent(msg []byte, id, hash string) error {
	if msg == nil {
		return fmt.Errorf("record %s has %w", id, errNoIntent)
	}
	v, err := note.NewVerifier(s.key.Public)
	if err != nil {
		return fmt.Errorf("record %s: the ledger's verifier key: %w", id, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("record %s has %w: its intent does not verify (%v)", id, errNoIntent, err)
	}
	if n.Text != intentText(s.key.Origin, id, hash) {
		return fmt.Errorf("record %s has %w for its body: its intent names another record or hash", id, errNoIntent)
	}
	return nil
}
