package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// ErrNoCheckpoint is wrapped by the error of a proof asked of a log that
// stores no signed checkpoint: its ledger has no key.
var ErrNoCheckpoint = errors.New("the ledger stores no signed checkpoint")

// ErrNotSigned is wrapped by the error of a proof asked of a record logged
// after the newest signed checkpoint: the log is behind (ErrLogBehind),
// and the next append, or promote ledger upgrade, signs one that covers
// it.
var ErrNotSigned = errors.New("no signed checkpoint covers the record yet")

// Proof shows that one record is in the log of a signed checkpoint: enough
// for anyone with the ledger's verifier key and the standard libraries
// (golang.org/x/mod/sumdb/note and tlog) to check it alone. Record is the
// stored body, so Leaf hash = SHA-256(0x00 ‖ Record); Hashes is the RFC 6962
// inclusion proof of leaf LeafIndex in the tree of TreeSize leaves whose
// root the checkpoint signs.
type Proof struct {
	Origin     string   `json:"origin"`
	TreeSize   int64    `json:"treeSize"`
	LeafIndex  int64    `json:"leafIndex"`
	Record     []byte   `json:"record"` // base64 in JSON
	Hashes     [][]byte `json:"proof"`  // each base64 in JSON
	Checkpoint string   `json:"checkpoint"`
}

// Prove returns the proof that record id is in the log of the newest
// checkpoint the ledger stores that holds: one that parses, signs no more
// leaves than the log holds, and, when vkey is given, is signed by it (a
// checkpoint anyone put in the store is passed over, never trusted). It
// checks the proof before it returns it.
func Prove(ctx context.Context, l Ledger, id, vkey string) (Proof, error) {
	index, err := l.LeafIndex(ctx, id)
	if err != nil {
		return Proof{}, err
	}
	note, cp, err := usableCheckpoint(ctx, l, vkey)
	if err != nil {
		return Proof{}, fmt.Errorf("proving record %s: %w", id, err)
	}
	if index >= cp.Size {
		return Proof{}, fmt.Errorf("proving record %s: it is leaf %d, after the newest signed checkpoint of %d leaves: %w", id, index, cp.Size, ErrNotSigned)
	}
	body, err := leafBody(ctx, l, index)
	if err != nil {
		return Proof{}, fmt.Errorf("proving record %s: %w", id, err)
	}
	hashes, err := merkle.Inclusion(index, cp.Size, hashReader{ctx, l})
	if err != nil {
		return Proof{}, fmt.Errorf("proving record %s: %w", id, err)
	}
	p := Proof{Origin: cp.Origin, TreeSize: cp.Size, LeafIndex: index, Record: body, Checkpoint: string(note)}
	for _, h := range hashes {
		p.Hashes = append(p.Hashes, append([]byte(nil), h[:]...))
	}
	if err := p.check(cp); err != nil {
		return Proof{}, fmt.Errorf("proving record %s: %w: the log does not prove it: %w", id, ErrLogTampered, err)
	}
	return p, nil
}

// usableCheckpoint returns the newest stored checkpoint that parses, signs
// no more leaves than the log holds and verifies with vkey (when given):
// the newest, unless someone put another in the store.
func usableCheckpoint(ctx context.Context, l Ledger, vkey string) ([]byte, merkle.Checkpoint, error) {
	size, err := l.LogSize(ctx)
	if err != nil {
		return nil, merkle.Checkpoint{}, err
	}
	usable := func(note []byte) (merkle.Checkpoint, bool) {
		var cp merkle.Checkpoint
		var err error
		if vkey != "" {
			cp, err = merkle.Open(note, vkey)
		} else {
			cp, err = noteCheckpoint(note)
		}
		return cp, err == nil && cp.Size <= size && cp.Size > 0
	}
	note, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, merkle.Checkpoint{}, err
	}
	if note == nil {
		return nil, merkle.Checkpoint{}, fmt.Errorf("%w: give the ledger a key (ledger.key in the configuration)", ErrNoCheckpoint)
	}
	if cp, ok := usable(note); ok {
		return note, cp, nil
	}
	var best []byte
	var bestCP merkle.Checkpoint
	err = l.Checkpoints(ctx, func(n []byte) error {
		if cp, ok := usable(n); ok && cp.Size >= bestCP.Size {
			best, bestCP = n, cp
		}
		return nil
	})
	if err != nil {
		return nil, merkle.Checkpoint{}, err
	}
	if best == nil {
		return nil, merkle.Checkpoint{}, fmt.Errorf("%w: no checkpoint it stores is signed by the ledger key and within the log's %s",
			ErrLogTampered, leaves(size))
	}
	return best, bestCP, nil
}

// Check verifies p alone: the checkpoint's signature with the verifier key
// vkey, then that the record hashes into the tree it signs.
func (p Proof) Check(vkey string) (merkle.Checkpoint, error) {
	cp, err := merkle.Open([]byte(p.Checkpoint), vkey)
	if err != nil {
		return merkle.Checkpoint{}, err
	}
	if cp.Origin != p.Origin || cp.Size != p.TreeSize {
		return merkle.Checkpoint{}, fmt.Errorf("the proof names log %s of %d leaves, its checkpoint %s of %d", p.Origin, p.TreeSize, cp.Origin, cp.Size)
	}
	return cp, p.check(cp)
}

// check verifies that p's record is leaf p.LeafIndex of cp's tree.
func (p Proof) check(cp merkle.Checkpoint) error {
	hashes := make([]merkle.Hash, len(p.Hashes))
	for i, h := range p.Hashes {
		if copy(hashes[i][:], h) != len(hashes[i]) || len(h) != len(hashes[i]) {
			return fmt.Errorf("proof hash %d is %d bytes, not 32", i, len(h))
		}
	}
	return merkle.CheckInclusion(hashes, cp, p.LeafIndex, p.Record)
}

// ParseNote reads the checkpoint a signed note carries, its signature
// unchecked: for showing a checkpoint when no verifier key is known.
func ParseNote(note []byte) (merkle.Checkpoint, error) { return noteCheckpoint(note) }

// noteCheckpoint reads the checkpoint a signed note carries, its signature
// unchecked: the store's own copy, for building proofs.
func noteCheckpoint(note []byte) (merkle.Checkpoint, error) {
	text, _, ok := cutNote(note)
	if !ok {
		return merkle.Checkpoint{}, errors.New("it is not a signed note")
	}
	return merkle.ParseCheckpoint(text)
}

// cutNote splits a signed note into its text (ending in a newline) and its
// signature lines, at the blank line between them.
func cutNote(note []byte) (text string, sigs string, ok bool) {
	s := string(note)
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\n' && s[i+1] == '\n' {
			return s[:i+1], s[i+2:], true
		}
	}
	return "", "", false
}

// leafBody reads the stored body of leaf index.
func leafBody(ctx context.Context, l Ledger, index int64) ([]byte, error) {
	var body []byte
	found := false
	err := l.Leaves(ctx, index, index+1, func(lf Leaf) error {
		body, found = lf.Body, true
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, fmt.Errorf("the log has no leaf %d", index)
	case body == nil:
		return nil, fmt.Errorf("the record of leaf %d is gone", index)
	}
	return body, nil
}
