package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// FuzzProofCheck: a proof as an auditor receives it (JSON, from anyone) is
// checked without panicking, and nothing but the record that was logged,
// at its place, under the checkpoint the key signed, ever checks.
func FuzzProofCheck(f *testing.F) {
	key := testKey(f, "promote.fuzz/ledger")
	var tree memTree
	bodies := make([][]byte, 7)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"id":"r-%d","kind":"promotion"}`, i)
		if _, _, err := tree.add(bodies[i]); err != nil {
			f.Fatal(err)
		}
	}
	root, err := tree.root(7)
	if err != nil {
		f.Fatal(err)
	}
	note, err := logSigner{key}.sign(7, root)
	if err != nil {
		f.Fatal(err)
	}
	for i := range bodies {
		hashes, err := merkle.Inclusion(int64(i), 7, &tree)
		if err != nil {
			f.Fatal(err)
		}
		p := Proof{Origin: key.Origin, TreeSize: 7, LeafIndex: int64(i), Record: bodies[i], Checkpoint: string(note)}
		for _, h := range hashes {
			p.Hashes = append(p.Hashes, append([]byte(nil), h[:]...))
		}
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Proof
		if json.Unmarshal(data, &p) != nil {
			return
		}
		cp, err := p.Check(key.Public)
		if err != nil {
			return
		}
		if cp.Size != 7 || cp.Root != root {
			t.Fatalf("a checkpoint the key never signed checks: %+v", cp)
		}
		if p.LeafIndex < 0 || p.LeafIndex >= 7 || !bytes.Equal(p.Record, bodies[p.LeafIndex]) {
			t.Fatalf("record %q checks at leaf %d", p.Record, p.LeafIndex)
		}
	})
}
