package promote

import (
	"context"
	"crypto/rand"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// A promoter that opened the ledger before it had a key, when another
// runner has since signed it, is refused under the chain's lock, before it
// copies anything: never a tag written and its record refused.
func TestWriterWithoutTheKeyIsRefusedBeforeItCopies(t *testing.T) {
	w := newWorld(t)
	w.push("web", "1.0", "1.0")
	w.push("web", "2.0", "2.0")
	keyless := w.engine() // opened while the ledger had no key

	skey, _, err := merkle.KeyPair("promote.test/late", rand.Reader)
	require.NoError(t, err)
	k, err := ledger.ParseKey(skey)
	require.NoError(t, err)
	led, err := ledger.OpenWith(context.Background(), w.ledger, ledger.Options{Key: k})
	require.NoError(t, err)
	t.Cleanup(func() { led.Close() })
	keyed, err := New(w.cfg, w.client(), led, WithActor(ledger.Actor{Identity: "B"}, nil))
	require.NoError(t, err)
	_, err = w.promote(keyed, "test", "web:1.0")
	require.NoError(t, err)

	_, err = w.promote(keyless, "test", "web:2.0")
	require.ErrorIs(t, err, ledger.ErrKeyMismatch)
	assert.ErrorIs(t, err, errs.ErrConfig)
	assert.NotContains(t, w.tags(w.test("web")), "2.0", "nothing copied")
	assert.Len(t, w.records(ledger.Query{App: "web", Env: "test"}), 1)
}

// A junk checkpoint in the file (one of 2^62+1 leaves, on which tlog's
// proofs would loop for ever) stops the next keyed promotion before it
// copies, and promptly.
func TestJunkCheckpointStopsAPromotionBeforeItCopies(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.Attest = testAttestKey(t)
	kw.push("web", "1.0", "1.0")
	_, err = kw.promote(e, "test", "web:1.0")
	require.NoError(t, err)

	db, err := sql.Open("sqlite", kw.ledger)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO log_checkpoints (size, note) VALUES (4611686018427387905, 'x' || char(10) ||
		'4611686018427387905' || char(10) || 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' || char(10) || char(10) || 'junk')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	kw.push("web", "2.0", "2.0")
	done := make(chan error, 1)
	go func() { _, err := kw.promote(e, "test", "web:2.0"); done <- err }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ledger.ErrLogTampered)
		assert.ErrorContains(t, err, "not signed by the ledger key")
	case <-time.After(30 * time.Second):
		t.Fatal("a junk checkpoint hangs the promotion")
	}
	assert.NotContains(t, kw.tags(kw.test("web")), "2.0", "nothing copied")
}
