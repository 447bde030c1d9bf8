// Package merkle is the ledger's transparency log: every record, in append
// order across all chains, is a leaf of one RFC 6962 Merkle tree, and a
// signed checkpoint (C2SP signed-note checkpoint: origin, size, root)
// commits to the tree at a size. Inclusion and consistency proofs let
// anyone holding the verifier key and a kept checkpoint check, without
// trusting the store, that a record is in the log and that the log only
// grew. The tree hashing and proofs are golang.org/x/mod/sumdb/tlog's, the
// signatures golang.org/x/mod/sumdb/note's, as in Go's checksum database;
// this package adds the checkpoint body and what the ledger stores.
package merkle

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a node of the tree.
type Hash = tlog.Hash

// MaxSize is the largest tree this package works on: 2^53 leaves, far
// beyond any ledger, and well short of the 2^62 beyond which tlog's proof
// functions loop for ever. Hostile sizes are refused rather than hang.
const MaxSize = int64(1) << 53

// checkSize refuses a tree size beyond MaxSize or below zero.
func checkSize(n int64) error {
	if n < 0 || n > MaxSize {
		return fmt.Errorf("merkle: tree size %d is out of range (0 to %d)", n, MaxSize)
	}
	return nil
}

// HashReader reads stored hashes by their tlog storage index; a ledger
// backend keeps them beside its records.
type HashReader = tlog.HashReader

// Leaf is the leaf hash of a record: SHA-256(0x00 || body), body being
// the record's stored bytes exactly.
func Leaf(body []byte) Hash { return tlog.RecordHash(body) }

// Stored is the hashes a log of n records must store when body becomes
// leaf n, with their storage indexes (tlog's layout: a leaf and each
// complete subtree it closes). r reads what is stored for leaves 0..n-1.
func Stored(n int64, body []byte, r HashReader) ([]int64, []Hash, error) {
	if err := checkSize(n + 1); err != nil {
		return nil, nil, err
	}
	hashes, err := tlog.StoredHashes(n, body, r)
	if err != nil {
		return nil, nil, fmt.Errorf("merkle: hashes of leaf %d: %w", n, err)
	}
	first := tlog.StoredHashIndex(0, n)
	idx := make([]int64, len(hashes))
	for i := range hashes {
		idx[i] = first + int64(i)
	}
	return idx, hashes, nil
}

// Root is the root hash of the tree of the first n leaves.
func Root(n int64, r HashReader) (Hash, error) {
	if err := checkSize(n); err != nil {
		return Hash{}, err
	}
	h, err := tlog.TreeHash(n, r)
	if err != nil {
		return Hash{}, fmt.Errorf("merkle: root of %d leaves: %w", n, err)
	}
	return h, nil
}
