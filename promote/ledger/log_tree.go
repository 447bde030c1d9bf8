package ledger

import (
	"fmt"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// memTree is a log's tree built in memory from its leaves' bodies, as an
// honest writer builds it: the audit walk compares what is stored with it.
// Stored hashes are appended in tlog's index order, so the slice is dense.
type memTree struct {
	hashes []merkle.Hash
	size   int64
}

// add appends a leaf with body and returns the stored hashes it made, at
// the tlog indexes idx.
func (t *memTree) add(body []byte) (idx []int64, hashes []merkle.Hash, err error) {
	idx, hashes, err = merkle.Stored(t.size, body, t)
	if err != nil {
		return nil, nil, err
	}
	if len(idx) > 0 && idx[0] != int64(len(t.hashes)) {
		return nil, nil, fmt.Errorf("the tree's stored hashes are out of order at leaf %d", t.size)
	}
	t.hashes = append(t.hashes, hashes...)
	t.size++
	return idx, hashes, nil
}

// ReadHashes reads the hashes stored so far.
func (t *memTree) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("the tree has no stored hash %d", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

// root returns the root of the tree's first n leaves.
func (t *memTree) root(n int64) (merkle.Hash, error) { return merkle.Root(n, t) }
