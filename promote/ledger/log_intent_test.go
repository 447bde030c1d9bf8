package ledger

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// An intent binds a record id to its hash under the ledger key: it checks
// for that id and hash with that key only, the same record always gets
// the same bytes, and neither an intent nor a checkpoint passes for the
// other.
func TestIntentBindsRecordToHash(t *testing.T) {
	key := testKey(t, "promote.test/ledger")
	s := logSigner{key}
	const id, hash = "r-1\nsha256:forged", "sha256:" + "ab"
	msg, err := s.signIntent(id, hash)
	require.NoError(t, err)
	assert.Contains(t, string(msg), "promote ledger intent\npromote.test/ledger\nr-1%0Asha256%3Aforged\nsha256:ab\n",
		"an id is one escaped line")
	again, err := s.signIntent(id, hash)
	require.NoError(t, err)
	assert.Equal(t, msg, again, "deterministic")
	require.NoError(t, s.checkIntent(msg, id, hash))

	for name, err := range map[string]error{
		"another hash":  s.checkIntent(msg, id, "sha256:cd"),
		"another id":    s.checkIntent(msg, "r-2", hash),
		"another key":   logSigner{testKey(t, "promote.test/ledger")}.checkIntent(msg, id, hash),
		"none":          s.checkIntent(nil, id, hash),
		"garbage":       s.checkIntent([]byte("promote ledger intent\n"), id, hash),
		"a checkpoint":  s.checkIntent(mustSign(t, s), id, hash),
		"same key text": s.checkIntent([]byte(intentText(key.Origin, id, hash)), id, hash),
	} {
		require.ErrorIs(t, err, errNoIntent, name)
	}
	_, err = merkle.Open(msg, key.Public)
	assert.Error(t, err, "an intent is no checkpoint")
}

func mustSign(t *testing.T, s logSigner) []byte {
	note, err := s.sign(3, merkle.Hash{1})
	require.NoError(t, err)
	return note
}
