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

// A record rewritten in place with a fresh hash (its chain still links, its
// log untouched) is not acted on: promote to prod reads test's current
// record, finds it is not what its leaf logs, and copies nothing.
func TestRecordRewrittenInPlaceIsNotActedOn(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	d1 := kw.push("web", "1.0", "1.0")
	_, err := kw.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	kw.push("web", "2.0", "2.0")
	_, err = kw.promote(e, "test", "web:2.0")
	require.NoError(t, err)

	head := kw.records(ledger.Query{App: "web", Env: "test", Limit: 1})[0]
	head.Digest, head.Reason = d1.String(), "quietly the old one"
	head.Hash = ""
	body, err := head.Body()
	require.NoError(t, err)
	db, err := sql.Open("sqlite", kw.ledger)
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TRIGGER records_no_update`} {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	_, err = db.Exec(`UPDATE records SET body = ?, hash = ?, digest = ? WHERE id = ?`, string(body), ledger.HashBody(body), head.Digest, head.ID)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = kw.promote(kw.open(), "prod", "web")
	require.ErrorIs(t, err, ledger.ErrLogTampered)
	assert.ErrorContains(t, err, "is not proven in the newest signed checkpoint")
	assert.Empty(t, kw.tags(kw.prod("web")), "nothing copied to prod")
	_, err = kw.open().Current(context.Background(), "test", "web")
	assert.ErrorIs(t, err, ledger.ErrLogTampered, "current does not hand out the rewritten digest")
}
