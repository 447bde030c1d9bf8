package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// The leaves of the S3 log and the tree's stored hashes. Leaf n is the
// object log/leaves/<n>.json, created with If-None-Match: * by the writer
// that logs its record: of two writers after the same leaf exactly one wins
// n, which gives the whole ledger one append order across machines. The
// object also holds the tlog stored hashes that leaf n adds to the tree
// (merkle.Stored: the leaf hash, then one hash for each complete subtree
// the leaf closes), so the tree needs no objects of its own: stored hash
// index i lives in the leaf that wrote it (storedHashAt).

// s3Leaf is the content of a leaf object.
type s3Leaf struct {
	ID     string   `json:"id"`     // the record's id
	Record string   `json:"record"` // the key of the record object
	Hash   string   `json:"hash"`   // the record's hash, "sha256:…"
	Stored [][]byte `json:"stored"` // base64: the stored hashes the leaf added, level 0 first
}

// logIDIndex is the content of a log/ids/<id> object.
type logIDIndex struct {
	Leaf int64 `json:"leaf"`
}

// leafCacheMax bounds the leaves an s3Ledger keeps in memory (a few
// hundred bytes each): enough for the hashes an append reads many times.
const leafCacheMax = 1 << 16

// s3LogState is what an S3 ledger remembers of its log, under its mu:
// leaves are immutable once created, and so is the log's key.
type s3LogState struct {
	leaves    map[int64]*s3Leaf // leaves as read or written, at most leafCacheMax
	vkey      string            // the log's verifier key, once read or written
	hint      logHint           // log/head.json as last read or written
	hintKnown bool
}

// storedHashAt returns the leaf whose object holds tlog stored hash index
// i and the entry of its stored list that is the hash: hash (level, k) is
// written by the leaf that completes subtree k of level, its last leaf
// ((k+1) << level) - 1, as the level-th hash it adds.
func storedHashAt(i int64) (leaf int64, entry int) {
	level, k := tlog.SplitStoredHashIndex(i)
	return ((k + 1) << level) - 1, level
}

// storedCount is how many stored hashes leaf n adds: its own and one for
// each trailing 1 bit of n (each subtree it completes).
func storedCount(n int64) int { return 1 + bits.TrailingZeros64(^uint64(n)) }

// decodeLeaf decodes leaf object n; an error for one that is not a leaf.
func decodeLeaf(n int64, data []byte) (*s3Leaf, error) {
	var lf s3Leaf
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, fmt.Errorf("leaf %d is not a leaf object: %w", n, err)
	}
	if lf.ID == "" {
		return nil, fmt.Errorf("leaf %d names no record", n)
	}
	return &lf, nil
}

// cachedLeaf returns leaf n if this ledger holds it.
func (l *s3Ledger) cachedLeaf(n int64) *s3Leaf {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log.leaves[n]
}

// cacheLeaf keeps leaf n (nil: forgets it), evicting another leaf if the
// cache is full.
func (l *s3Ledger) cacheLeaf(n int64, lf *s3Leaf) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lf == nil {
		delete(l.log.leaves, n)
		return
	}
	if l.log.leaves == nil {
		l.log.leaves = map[int64]*s3Leaf{}
	}
	if _, ok := l.log.leaves[n]; !ok && len(l.log.leaves) >= leafCacheMax {
		for k := range l.log.leaves {
			delete(l.log.leaves, k)
			break
		}
	}
	l.log.leaves[n] = lf
}

// leafRead is one leaf object as read: nil leaf if absent, err if it does
// not decode.
type leafRead struct {
	leaf *s3Leaf
	err  error
}

// readLeaves reads the leaf objects at idx, l.workers at a time, from the
// cache where it holds them unless fresh is set; every leaf read is cached
// (or, if absent or not a leaf, forgotten).
func (l *s3Ledger) readLeaves(ctx context.Context, idx []int64, fresh bool) ([]leafRead, error) {
	out := make([]leafRead, len(idx))
	var keys []string
	var at []int
	for i, n := range idx {
		if lf := l.cachedLeaf(n); lf != nil && !fresh {
			out[i].leaf = lf
			continue
		}
		keys = append(keys, l.leafKey(n))
		at = append(at, i)
	}
	objs, err := l.getMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	for j, obj := range objs {
		i := at[j]
		if obj != nil {
			out[i].leaf, out[i].err = decodeLeaf(idx[i], obj)
		}
		l.cacheLeaf(idx[i], out[i].leaf)
	}
	return out, nil
}

// TreeHashes returns the stored hashes at indexes, each read from the leaf
// object that wrote it; the leaves are read in parallel and kept in memory.
func (l *s3Ledger) TreeHashes(ctx context.Context, indexes []int64) ([]merkle.Hash, error) {
	hs, err := l.treeHashes(ctx, indexes)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", l, err)
	}
	return hs, nil
}

// errLogHole is wrapped by treeHashes' error for a hash the log does not
// hold (its leaf is missing, or is not a leaf holding it), as opposed to
// an error reading it.
var errLogHole = errors.New("the log has no stored hash")

func (l *s3Ledger) treeHashes(ctx context.Context, indexes []int64) ([]merkle.Hash, error) {
	var need []int64
	seen := map[int64]bool{}
	for _, x := range indexes {
		if x < 0 {
			return nil, fmt.Errorf("%w %d", errLogHole, x)
		}
		if n, _ := storedHashAt(x); !seen[n] {
			seen[n] = true
			need = append(need, n)
		}
	}
	reads, err := l.readLeaves(ctx, need, false)
	if err != nil {
		return nil, fmt.Errorf("reading the log's hashes: %w", err)
	}
	byLeaf := make(map[int64]leafRead, len(need))
	for i, n := range need {
		byLeaf[n] = reads[i]
	}
	out := make([]merkle.Hash, len(indexes))
	for i, x := range indexes {
		n, entry := storedHashAt(x)
		r := byLeaf[n]
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("%w %d: %w", errLogHole, x, r.err)
		case r.leaf == nil:
			return nil, fmt.Errorf("%w %d: leaf %d is missing", errLogHole, x, n)
		case entry >= len(r.leaf.Stored) || len(r.leaf.Stored[entry]) != len(merkle.Hash{}):
			return nil, fmt.Errorf("%w %d: leaf %d holds no hash at level %d", errLogHole, x, n, entry)
		}
		copy(out[i][:], r.leaf.Stored[entry])
	}
	return out, nil
}
