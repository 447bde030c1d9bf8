package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// testOrigin names the log of the golden proof.
const testOrigin = "ledger.promote.example/acme"

// memTree is a tlog tree in memory, for a proof made with tlog itself.
type memTree []tlog.Hash

func (m memTree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

// ledgerProof is a real proof that the third of three leaves ("record 2")
// is in a log whose checkpoint a fixed key signs, made with tlog and note
// directly; it returns the verifier key too.
func ledgerProof(t *testing.T) (*LedgerProof, string) {
	t.Helper()
	var tree memTree
	for n := range int64(3) {
		hs, err := tlog.StoredHashes(n, fmt.Appendf(nil, "record %d", n), tree)
		require.NoError(t, err)
		tree = append(tree, hs...)
	}
	root, err := tlog.TreeHash(3, tree)
	require.NoError(t, err)
	proof, err := tlog.ProveRecord(3, 2, tree)
	require.NoError(t, err)
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), testOrigin)
	require.NoError(t, err)
	signer, err := note.NewSigner(skey)
	require.NoError(t, err)
	msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n3\n%s\n", testOrigin, base64.StdEncoding.EncodeToString(root[:]))}, signer)
	require.NoError(t, err)
	p := &LedgerProof{Origin: testOrigin, TreeSize: 3, LeafIndex: 2, Checkpoint: string(msg)}
	for _, h := range proof {
		p.Proof = append(p.Proof, append([]byte(nil), h[:]...))
	}
	return p, vkey
}

// The ledger object is pinned byte for byte like the rest of the predicate,
// and a reader checks it with note and tlog alone.
func TestStatementWithLedgerProofIsGolden(t *testing.T) {
	p := promotion("registry.example/prod/web", testDigest)
	var vkey string
	p.Ledger, vkey = ledgerProof(t)
	st, err := BuildStatement(p)
	require.NoError(t, err)
	payload, err := st.Payload()
	require.NoError(t, err)
	golden := filepath.Join(fixtures, "statement.ledger.golden.json")
	if *update {
		var pretty map[string]any
		require.NoError(t, json.Unmarshal(payload, &pretty))
		b, err := json.MarshalIndent(pretty, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(golden, append(b, '\n'), 0o644))
	}
	assert.JSONEq(t, string(fixture(t, "statement.ledger.golden.json")), string(payload))

	var doc struct {
		Predicate struct {
			Ledger struct {
				Origin     string   `json:"origin"`
				TreeSize   int64    `json:"treeSize"`
				LeafIndex  int64    `json:"leafIndex"`
				Proof      []string `json:"proof"`
				Checkpoint string   `json:"checkpoint"`
			} `json:"ledger"`
		} `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(payload, &doc))
	l := doc.Predicate.Ledger
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open([]byte(l.Checkpoint), note.VerifierList(v))
	require.NoError(t, err)
	lines := strings.Split(n.Text, "\n")
	require.Equal(t, []string{testOrigin, "3"}, lines[:2])
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	require.NoError(t, err)
	var root tlog.Hash
	copy(root[:], rootBytes)
	var proof tlog.RecordProof
	for _, s := range l.Proof {
		b, err := base64.StdEncoding.DecodeString(s)
		require.NoError(t, err)
		var h tlog.Hash
		copy(h[:], b)
		proof = append(proof, h)
	}
	assert.NoError(t, tlog.CheckRecord(proof, l.TreeSize, root, l.LeafIndex, tlog.RecordHash([]byte("record 2"))))
	assert.Error(t, tlog.CheckRecord(proof, l.TreeSize, root, l.LeafIndex, tlog.RecordHash([]byte("record 1"))))
}

// Without a proof (a ledger with no key) the predicate has no ledger
// object at all: the statement of a keyless ledger is as before.
func TestStatementWithoutLedgerProofHasNoLedgerField(t *testing.T) {
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	payload, err := st.Payload()
	require.NoError(t, err)
	var doc struct {
		Predicate map[string]json.RawMessage `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(payload, &doc))
	assert.NotContains(t, doc.Predicate, "ledger")
}

func TestBuildStatementRefusesMalformedLedgerProofs(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*LedgerProof)
		want string
	}{
		"no origin":          {func(p *LedgerProof) { p.Origin = "" }, "no origin"},
		"leaf past the tree": {func(p *LedgerProof) { p.LeafIndex = 3 }, "leaf 3 is not in a tree of 3 leaves"},
		"empty tree":         {func(p *LedgerProof) { p.TreeSize, p.LeafIndex = 0, 0 }, "not in a tree of 0 leaves"},
		"short hash":         {func(p *LedgerProof) { p.Proof[0] = p.Proof[0][:31] }, "proof hash 0 is 31 bytes"},
		"no checkpoint":      {func(p *LedgerProof) { p.Checkpoint = "" }, "not a signed note"},
		"another log":        {func(p *LedgerProof) { p.Origin = "other.example/log" }, "not a signed note of the origin's log"},
	} {
		t.Run(name, func(t *testing.T) {
			p := promotion("registry.example/prod/web", testDigest)
			p.Ledger, _ = ledgerProof(t)
			c.edit(p.Ledger)
			_, err := BuildStatement(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// The statement keeps no reference to the proof it was given.
func TestBuildStatementCopiesTheLedgerProof(t *testing.T) {
	p := promotion("registry.example/prod/web", testDigest)
	p.Ledger, _ = ledgerProof(t)
	st, err := BuildStatement(p)
	require.NoError(t, err)
	before, err := st.Payload()
	require.NoError(t, err)
	p.Ledger.Proof[0][0] ^= 0xff
	p.Ledger.TreeSize = 99
	after, err := st.Payload()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}
