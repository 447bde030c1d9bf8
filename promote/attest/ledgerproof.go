package attest

import (
	"errors"
	"fmt"
	"strings"
)

// LedgerProof places the promotion's ledger record in the ledger's
// transparency log: the signed checkpoint the ledger stored after the
// record was appended (a C2SP signed note: origin, tree size, base64 root,
// then the signature of the ledger's Ed25519 note key) and the RFC 6962
// inclusion proof of the record's leaf in the tree that checkpoint signs.
//
// The leaf is SHA-256(0x00 ‖ body), where body is the record as the ledger
// stores it, the bytes whose SHA-256 is Predicate.Record.Hash. So a holder of
// the attestation, the ledger's verifier key and the record's body (promote
// ledger prove RECORD prints it) checks with golang.org/x/mod/sumdb/note and
// tlog alone that the record is leaf LeafIndex of the log the checkpoint
// signs. Kept in the registry beside the image, the checkpoint is a witness
// outside the ledger's store: a later rewrite of any of its first TreeSize
// records, a truncation or a reordering no longer extends it.
type LedgerProof struct {
	Origin     string   `json:"origin"`     // the log's name, the checkpoint's first line
	TreeSize   int64    `json:"treeSize"`   // leaves the checkpoint signs
	LeafIndex  int64    `json:"leafIndex"`  // the record's leaf, from 0
	Proof      [][]byte `json:"proof"`      // the inclusion proof's hashes, leaf to root, each base64
	Checkpoint string   `json:"checkpoint"` // the signed note, as the ledger stores it
}

// Bounds on what a proof adds to a statement: an inclusion proof has at most
// 64 hashes, and a checkpoint is a few hundred bytes.
const (
	maxProofHashes = 64
	maxCheckpoint  = 8 << 10
)

// check refuses a proof that cannot be one: the statement carries it as
// given, so a malformed one must never be signed.
func (p *LedgerProof) check() error {
	var bad []string
	if strings.TrimSpace(p.Origin) == "" {
		bad = append(bad, "no origin")
	}
	if p.TreeSize < 1 || p.LeafIndex < 0 || p.LeafIndex >= p.TreeSize {
		bad = append(bad, fmt.Sprintf("leaf %d is not in a tree of %d leaves", p.LeafIndex, p.TreeSize))
	}
	if len(p.Proof) > maxProofHashes {
		bad = append(bad, fmt.Sprintf("%d proof hashes", len(p.Proof)))
	}
	for i, h := range p.Proof {
		if len(h) != 32 {
			bad = append(bad, fmt.Sprintf("proof hash %d is %d bytes, not 32", i, len(h)))
			break
		}
	}
	if p.Checkpoint == "" || len(p.Checkpoint) > maxCheckpoint || !strings.HasPrefix(p.Checkpoint, p.Origin+"\n") {
		bad = append(bad, "the checkpoint is not a signed note of the origin's log")
	}
	if len(bad) > 0 {
		return errors.New("attestation: the ledger proof is malformed: " + strings.Join(bad, "; "))
	}
	return nil
}

// clone copies p, so that the statement keeps no reference to the
// caller's slices.
func (p *LedgerProof) clone() *LedgerProof {
	if p == nil {
		return nil
	}
	c := *p
	c.Proof = make([][]byte, len(p.Proof))
	for i, h := range p.Proof {
		c.Proof[i] = append([]byte(nil), h...)
	}
	return &c
}
