package merkle

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint commits to the log at a size: the body of a C2SP signed-note
// checkpoint, "ORIGIN\nSIZE\nBASE64(ROOT)\n". The origin names the log;
// it is also the name of the note key that signs it.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
}

// Body is the checkpoint's text, as signed.
func (c Checkpoint) Body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint reads a checkpoint body; lines after the third (C2SP
// extension lines) are allowed and ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, errors.New("merkle: a checkpoint is three lines: origin, size, root hash")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint size %q is not a count", lines[1])
	}
	if size > MaxSize {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint size %d is too large (at most %d)", size, MaxSize)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(Hash{}) {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	c := Checkpoint{Origin: lines[0], Size: size}
	copy(c.Root[:], root)
	return c, nil
}

// Sign signs c with skey, a note signer key (PRIVATE+KEY+NAME+…) whose
// name must be c's origin, and returns the signed note.
func Sign(c Checkpoint, skey string) ([]byte, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("merkle: ledger key: %w", err)
	}
	if s.Name() != c.Origin {
		return nil, fmt.Errorf("merkle: the ledger key is named %q, not the log's origin %q", s.Name(), c.Origin)
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Body())}, s)
	if err != nil {
		return nil, fmt.Errorf("merkle: signing checkpoint: %w", err)
	}
	return msg, nil
}

// Open checks the signed checkpoint msg against vkey (a note verifier key,
// NAME+HASH+KEY) and returns the checkpoint, whose origin must be the
// key's name.
func Open(msg []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("merkle: checkpoint of log %q signed by key %q", c.Origin, v.Name())
	}
	return c, nil
}

// KeyPair makes a ledger's note key pair for origin: the signer key (keep
// it secret) and the verifier key (give it to auditors).
func KeyPair(origin string, rand io.Reader) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand, origin)
	if err != nil {
		return "", "", fmt.Errorf("merkle: generating a key for %q: %w", origin, err)
	}
	return skey, vkey, nil
}
