package ledger

// Who may write the S3 log, what a read-only ledger reads of it, and a log
// rewritten behind the writers' back.

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// importable returns the first record of a new chain, complete as Import
// takes it.
func importable(t *testing.T) Record {
	rec := *newRecord("imported", "prod", digestN(77), t0)
	rec.MediaType, rec.ID, rec.Seq = MediaType, "r-imported", 1
	rehash(t, &rec)
	return rec
}

// A log signed with one key refuses a writer without it and a writer with
// another before anything is stored: Append, Import and Upgrade.
func TestS3LogKeyMismatchStoresNothing(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	appendAtHead(t, keyedS3(f, key), newRecord("web", "prod", digestN(1), t0))
	before := f.contents()
	for name, l := range map[string]*s3Ledger{"no key": f.ledger("audit"), "another key": keyedS3(f, testKey(t, "promote.test/ledger"))} {
		head, err := l.Head(ctx, "web", "prod")
		require.NoError(t, err)
		err = l.Append(ctx, newRecord("web", "prod", digestN(2), t0.Add(timeStep(2))), head)
		require.ErrorIs(t, err, ErrKeyMismatch, name)
		assert.ErrorContains(t, err, key.Public, name)
		assert.NotContains(t, err.Error(), "PRIVATE", name)
		require.ErrorIs(t, l.Import(ctx, importable(t)), ErrKeyMismatch, name)
		_, err = l.Upgrade(ctx, UpgradeOptions{})
		require.ErrorIs(t, err, ErrKeyMismatch, name)
		assert.Equal(t, before, f.contents(), "%s: nothing stored", name)
	}
	require.NoError(t, keyedS3(f, key).Import(ctx, importable(t)), "the key's holder imports")
	requireLog(t, f.ledger("audit"), key.Public)
}

// A writer with a key does not sign a log written without one (nothing
// there is authenticated) and stores nothing; ledger upgrade
// --sign-unsigned does, and from then on writers with the key append and
// a writer without it is refused.
func TestS3LogFirstKeySignsUnsignedLog(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	appendAtHead(t, f.ledger("audit"), newRecord("web", "prod", digestN(1), t0))
	assert.Nil(t, mustCheckpoint(t, f.ledger("audit")), "an unsigned log has no checkpoint")
	assert.Empty(t, f.keys("audit/log/intents/"), "a writer without a key writes no intents")
	key := testKey(t, "promote.test/ledger")
	before := f.contents()
	keyed := keyedS3(f, key)
	head, err := keyed.Head(ctx, "web", "prod")
	require.NoError(t, err)
	err = keyed.Append(ctx, newRecord("web", "prod", digestN(2), t0.Add(timeStep(2))), head)
	require.ErrorIs(t, err, ErrLogTampered)
	assert.ErrorContains(t, err, "the log holds 1 leaf and no signed checkpoint")
	assert.ErrorContains(t, err, "promote ledger upgrade --sign-unsigned")
	assert.Equal(t, before, f.contents(), "nothing stored")

	up, err := keyedS3(f, key).Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Size: 1, Signed: true}, up)
	appendAtHead(t, keyedS3(f, key), newRecord("web", "prod", digestN(2), t0.Add(timeStep(2))))
	assert.Equal(t, key.Public, string(f.object("audit/log/key")))
	requireLog(t, f.ledger("audit"), key.Public)
	head, err = f.ledger("audit").Head(ctx, "web", "prod")
	require.NoError(t, err)
	err = f.ledger("audit").Append(ctx, newRecord("web", "prod", digestN(3), t0.Add(timeStep(3))), head)
	require.ErrorIs(t, err, ErrKeyMismatch)
}

// A read-only ledger reads the log, moves no lagging hint, and refuses
// Upgrade, sending no write at all.
func TestS3LogReadOnly(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	w := keyedS3(f, key)
	for i := range 3 {
		appendAtHead(t, w, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
	}
	dying := f.dyingLedger("/log/leaves/")
	dying.logSigner = logSigner{key}
	unlogged := newRecord("web", "prod", digestN(9), t0.Add(timeStep(9)))
	appendUnlogged(t, dying, unlogged, "not logged")
	f.put("audit/log/head.json", []byte(`{"size":1}`))
	before := f.contents()

	l := f.ledger("audit")
	l.readOnly = true
	log := &methodLog{}
	l.client = s3.New(l.client.Options(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: log}
		o.Logger = logging.Nop{}
	})
	size, err := l.LogSize(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), size)
	var ids []string
	require.NoError(t, l.Leaves(ctx, 0, size, func(lf Leaf) error { ids = append(ids, lf.ID); return nil }))
	assert.Len(t, ids, 3)
	n, err := l.LeafIndex(ctx, ids[2])
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = l.LeafIndex(ctx, unlogged.ID)
	require.ErrorIs(t, err, ErrNotLogged)
	_, err = l.TreeHashes(ctx, []int64{0, 1, 2, 3})
	require.NoError(t, err)
	assert.NotNil(t, mustCheckpoint(t, l))
	count := 0
	require.NoError(t, l.Checkpoints(ctx, func([]byte) error { count++; return nil }))
	assert.Equal(t, 3, count)
	_, err = l.Upgrade(ctx, UpgradeOptions{})
	require.ErrorIs(t, err, ErrReadOnly)

	assert.Empty(t, log.writes, "a read-only ledger sent a write")
	assert.Equal(t, before, f.contents())
	up, err := keyedS3(f, key).Upgrade(ctx, UpgradeOptions{})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 1, Size: 4, Signed: true}, up, "a writer logs it")
}

// A log rewritten by hand (s3Raw.rebuildLog) is read as stored: its leaves
// in the order written, no checkpoint; a leaf object that is not a leaf and
// a leaf whose record is gone are returned without a body, not as errors.
func TestS3LogReadAsStored(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	l := keyedS3(f, testKey(t, "promote.test/ledger"))
	var ids []string
	for i := range 4 {
		rec := newRecord("web", "prod", digestN(i), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		ids = append([]string{rec.ID}, ids...)
	}
	s3Raw{f}.rebuildLog(ids)
	fresh := f.ledger("audit")
	assert.Nil(t, mustCheckpoint(t, fresh))
	var got []string
	var tree memTree
	require.NoError(t, fresh.Leaves(ctx, 0, 10, func(lf Leaf) error {
		got = append(got, lf.ID)
		_, _, err := tree.add(lf.Body)
		return err
	}))
	assert.Equal(t, ids, got)
	stored, err := fresh.TreeHashes(ctx, []int64{0, 1, 2, 3, 4, 5, 6})
	require.NoError(t, err)
	assert.Equal(t, tree.hashes, stored)

	f.put("audit/log/leaves/00000000000000000001.json", []byte("not a leaf"))
	var lf2 map[string]any
	require.NoError(t, json.Unmarshal(f.object("audit/log/leaves/00000000000000000002.json"), &lf2))
	f.remove(lf2["record"].(string))
	var leaves []Leaf
	require.NoError(t, l.Leaves(ctx, 0, 10, func(lf Leaf) error { leaves = append(leaves, lf); return nil }))
	require.Len(t, leaves, 4)
	assert.Equal(t, Leaf{Index: 1}, leaves[1], "a leaf object that is not a leaf")
	assert.Equal(t, Leaf{Index: 2, ID: ids[2]}, leaves[2], "a leaf whose record is gone")
	assert.NotNil(t, leaves[3].Body)
}
