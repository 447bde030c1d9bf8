package merkle

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memLog is a log in memory: the record bodies and the stored hashes, as a
// ledger backend keeps them.
type memLog struct {
	bodies [][]byte
	stored map[int64]Hash
}

func (l *memLog) ReadHashes(idx []int64) ([]Hash, error) {
	out := make([]Hash, len(idx))
	for i, x := range idx {
		h, ok := l.stored[x]
		if !ok {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h
	}
	return out, nil
}

func (l *memLog) append(t *testing.T, body []byte) {
	t.Helper()
	idx, hashes, err := Stored(int64(len(l.bodies)), body, l)
	require.NoError(t, err)
	for i, x := range idx {
		l.stored[x] = hashes[i]
	}
	l.bodies = append(l.bodies, body)
}

func logOf(t *testing.T, bodies [][]byte) *memLog {
	l := &memLog{stored: map[int64]Hash{}}
	for _, b := range bodies {
		l.append(t, b)
	}
	return l
}

func records(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":"r-%06d","kind":"promotion"}`, i)
	}
	return out
}

// mth is RFC 6962's Merkle Tree Hash, written from the RFC's definition
// (section 2.1), as an oracle independent of the library the package uses.
func mth(leaves [][]byte) Hash {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := mth(leaves[:k]), mth(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func TestRootIsRFC6962(t *testing.T) {
	bodies := records(100)
	l := logOf(t, bodies)
	for _, n := range []int{1, 2, 3, 7, 8, 57, 64, 100} {
		root, err := Root(int64(n), l)
		require.NoError(t, err)
		assert.Equal(t, mth(bodies[:n]), root, "size %d", n)
	}
	assert.Equal(t, Hash(sha256.Sum256(append([]byte{0}, bodies[5]...))), Leaf(bodies[5]))
}

func keys(t *testing.T, origin string) (string, string) {
	skey, vkey, err := KeyPair(origin, rand.Reader)
	require.NoError(t, err)
	return skey, vkey
}

func signedAt(t *testing.T, l *memLog, n int64, skey, origin string) (Checkpoint, []byte) {
	root, err := Root(n, l)
	require.NoError(t, err)
	cp := Checkpoint{Origin: origin, Size: n, Root: root}
	msg, err := Sign(cp, skey)
	require.NoError(t, err)
	return cp, msg
}

func TestCheckpointSignedAndOpened(t *testing.T) {
	const origin = "promote.example/ledger/prod"
	skey, vkey := keys(t, origin)
	l := logOf(t, records(10))
	cp, msg := signedAt(t, l, 10, skey, origin)
	assert.Contains(t, string(msg), origin+"\n10\n")
	got, err := Open(msg, vkey)
	require.NoError(t, err)
	assert.Equal(t, cp, got)

	_, other := keys(t, origin)
	_, err = Open(msg, other)
	assert.Error(t, err, "another key of the same name does not verify it")
	forged := append([]byte{}, msg...)
	forged[len(origin)+1] = '9' // the size line
	_, err = Open(forged, vkey)
	assert.Error(t, err, "a changed body fails its signature")
	_, err = Sign(Checkpoint{Origin: "another/log", Size: 1}, skey)
	assert.ErrorContains(t, err, `not the log's origin "another/log"`)

	_, err = ParseCheckpoint("origin\n-1\nAAAA\n")
	assert.Error(t, err)
	_, err = ParseCheckpoint("origin\n3\n")
	assert.Error(t, err)
	ext, err := ParseCheckpoint(string(cp.Body()) + "extension line\n")
	require.NoError(t, err, "C2SP extension lines are allowed")
	assert.Equal(t, cp, ext)
}

func TestEveryRecordProvesItsInclusion(t *testing.T) {
	bodies := records(100)
	l := logOf(t, bodies)
	root, err := Root(100, l)
	require.NoError(t, err)
	cp := Checkpoint{Origin: "o", Size: 100, Root: root}
	for i := range bodies {
		proof, err := Inclusion(int64(i), 100, l)
		require.NoError(t, err)
		require.NoError(t, CheckInclusion(proof, cp, int64(i), bodies[i]), "record %d", i)
		assert.LessOrEqual(t, len(proof), 7, "O(log n)")
	}
	proof, err := Inclusion(20, 100, l)
	require.NoError(t, err)
	assert.Error(t, CheckInclusion(proof, cp, 20, []byte(`{"id":"r-000020","kind":"rollback"}`)), "a rewritten record")
	assert.Error(t, CheckInclusion(proof, cp, 21, bodies[20]), "at another place")
}

// Against a kept checkpoint, every way of changing the history shows:
// truncation, a rewritten (and re-hashed) record, reordering, insertion,
// deletion. Appending does not.
func TestKeptCheckpointCatchesEveryRewrite(t *testing.T) {
	const origin = "promote.example/ledger"
	skey, vkey := keys(t, origin)
	bodies := records(100)
	kept, msg := signedAt(t, logOf(t, bodies[:57]), 57, skey, origin)
	opened, err := Open(msg, vkey)
	require.NoError(t, err)
	require.Equal(t, kept, opened)

	check := func(now [][]byte) error {
		l := logOf(t, now)
		cur, _ := signedAt(t, l, int64(len(now)), skey, origin)
		if cur.Size < kept.Size {
			return CheckConsistency(nil, kept, cur)
		}
		proof, err := Consistency(kept.Size, cur.Size, l)
		require.NoError(t, err)
		return CheckConsistency(proof, kept, cur)
	}
	assert.NoError(t, check(bodies), "appending 43 records extends the kept checkpoint")
	assert.NoError(t, check(bodies[:57]), "the same log")

	rewritten := append([][]byte{}, bodies...)
	rewritten[20] = []byte(`{"id":"r-000020","kind":"rollback"}`)
	reordered := append([][]byte{}, bodies...)
	reordered[3], reordered[4] = reordered[4], reordered[3]
	inserted := append(append(append([][]byte{}, bodies[:10]...), []byte(`{"id":"r-inserted"}`)), bodies[10:]...)
	deleted := append(append([][]byte{}, bodies[:10]...), bodies[11:]...)
	for name, now := range map[string][][]byte{
		"truncated":         bodies[:50],
		"rewritten":         rewritten,
		"rewritten in tail": append(append([][]byte{}, bodies[:56]...), []byte(`{"id":"r-000056","kind":"x"}`)),
		"reordered":         reordered,
		"inserted":          inserted,
		"deleted":           deleted,
	} {
		err := check(now)
		assert.Error(t, err, name)
		if name == "truncated" {
			assert.ErrorContains(t, err, "cut short")
		} else {
			assert.ErrorContains(t, err, "rewritten", name)
		}
	}
}

func TestPublicKeyOfSignerKey(t *testing.T) {
	skey, vkey := keys(t, "promote.example/ledger")
	got, err := PublicKey(skey)
	require.NoError(t, err)
	assert.Equal(t, vkey, got)
	_, err = PublicKey(vkey)
	assert.Error(t, err, "a verifier key is not a signer key")
	_, err = PublicKey("PRIVATE+KEY+x+00000000+AQ==")
	assert.Error(t, err)
}

// tlog's proofs loop for ever on trees of more than 2^62 leaves: a
// checkpoint claiming such a size is refused when parsed, and the tree
// functions refuse such sizes, so hostile input cannot hang a reader.
func TestHugeTreeSizesAreRefused(t *testing.T) {
	huge := int64(1) << 62
	_, err := ParseCheckpoint(fmt.Sprintf("o\n%d\n%s\n", huge+1, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	assert.ErrorContains(t, err, "too large")
	l := logOf(t, records(3))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := Inclusion(1, huge+1, l)
		assert.Error(t, err)
		_, err = Consistency(1, huge+1, l)
		assert.Error(t, err)
		_, err = Root(huge+1, l)
		assert.Error(t, err)
		assert.Error(t, CheckInclusion(nil, Checkpoint{Size: huge + 1}, 1, nil))
		assert.Error(t, CheckConsistency(nil, Checkpoint{Size: 2}, Checkpoint{Size: huge + 1}))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a huge tree size hangs")
	}
}
