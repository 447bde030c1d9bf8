package ledger

// The S3 transparency log: its objects, where the tree's stored hashes
// live, and what logging costs an append.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// keyedS3 returns a ledger on f under "audit" that signs with key.
func keyedS3(f *fakeS3, key *Key) *s3Ledger {
	l := f.ledger("audit")
	l.logSigner = logSigner{key}
	return l
}

// requireLog checks the log of l as an auditor does, with a fresh ledger:
// it holds every record of the ledger exactly once, each chain in seq
// order, every leaf body is its record's body, the stored hashes are those
// an honest writer computes from the bodies, LeafIndex finds each record,
// and, with vkey, the newest checkpoint opens with it and commits to the
// whole tree. It returns the leaves.
func requireLog(t *testing.T, l *s3Ledger, vkey string) []Leaf {
	t.Helper()
	ctx := context.Background()
	fresh := newS3Ledger(l.client, l.bucket, l.prefix)
	recs, err := fresh.RecordsChecked(ctx, Query{})
	require.NoError(t, err)
	byID := map[string]Record{}
	for _, c := range recs {
		byID[c.ID] = c.Record
	}
	size, err := fresh.LogSize(ctx)
	require.NoError(t, err)
	var leaves []Leaf
	require.NoError(t, fresh.Leaves(ctx, 0, size, func(lf Leaf) error { leaves = append(leaves, lf); return nil }))
	require.Len(t, leaves, len(recs), "one leaf per record")
	var tree memTree
	last := map[chainKey]int64{}
	for i, lf := range leaves {
		require.Equal(t, int64(i), lf.Index)
		rec, ok := byID[lf.ID]
		require.True(t, ok, "leaf %d logs %q, a record of the ledger", i, lf.ID)
		delete(byID, lf.ID)
		require.Equal(t, rec.Hash, HashBody(lf.Body), "leaf %d's body is its record's", i)
		k := chainKey{rec.App, rec.Env}
		require.Equal(t, last[k]+1, rec.Seq, "leaf %d: %s in %s in seq order", i, rec.App, rec.Env)
		last[k] = rec.Seq
		_, _, err := tree.add(lf.Body)
		require.NoError(t, err)
		n, err := fresh.LeafIndex(ctx, lf.ID)
		require.NoError(t, err)
		require.Equal(t, int64(i), n)
	}
	require.Empty(t, byID, "every record is logged")
	all := make([]int64, len(tree.hashes))
	for i := range all {
		all[i] = int64(i)
	}
	stored, err := fresh.TreeHashes(ctx, all)
	require.NoError(t, err)
	require.Equal(t, tree.hashes, stored, "the stored hashes are the honest tree's")
	if vkey != "" {
		note, err := fresh.Checkpoint(ctx)
		require.NoError(t, err)
		cp, err := merkle.Open(note, vkey)
		require.NoError(t, err)
		require.Equal(t, size, cp.Size, "the newest checkpoint covers the whole log")
		root, err := tree.root(size)
		require.NoError(t, err)
		require.Equal(t, root, cp.Root)
	}
	return leaves
}

// Stored hash index i is entry level of the stored list of leaf
// ((k+1)<<level)-1, where (level, k) = tlog.SplitStoredHashIndex(i): every
// hash merkle.Stored returns for leaf n is found there.
func TestS3StoredHashLocation(t *testing.T) {
	var tree memTree
	for n := range int64(300) {
		idx, _, err := tree.add(fmt.Appendf(nil, `{"id":"r-%d"}`, n))
		require.NoError(t, err)
		require.Len(t, idx, storedCount(n), "leaf %d", n)
		for entry, x := range idx {
			leaf, e := storedHashAt(x)
			require.Equal(t, n, leaf, "stored hash %d", x)
			require.Equal(t, entry, e, "stored hash %d", x)
		}
	}
}

// The log's objects are what an auditor reads: a leaf per record naming
// it, the stored hashes it adds, the record's leaf, the signed checkpoint
// of every size, the verifier key, and the size hint.
func TestS3LogObjects(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	l := keyedS3(f, key)
	var recs []*Record
	for i := range 5 {
		rec := newRecord("team/web", []string{"prod", "test"}[i%2], digestN(i), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		recs = append(recs, rec)
	}
	leaf := "audit/log/leaves/00000000000000000003.json"
	var lf map[string]any
	require.NoError(t, json.Unmarshal(f.object(leaf), &lf))
	assert.Equal(t, recs[3].ID, lf["id"])
	assert.Equal(t, "audit/records/team%2Fweb/test/00000000000000000002.json", lf["record"])
	assert.Equal(t, recs[3].Hash, lf["hash"])
	assert.Len(t, lf["stored"], 3, "leaf 3 closes the subtrees of levels 1 and 2")
	assert.JSONEq(t, `{"leaf":3}`, string(f.object("audit/log/ids/"+recs[3].ID)))
	assert.Equal(t, key.Public, string(f.object("audit/log/key")))
	assert.JSONEq(t, `{"size":5}`, string(f.object("audit/log/head.json")))
	var sizes []int64
	require.NoError(t, l.Checkpoints(ctx, func(note []byte) error {
		cp, err := merkle.Open(note, key.Public)
		require.NoError(t, err)
		sizes = append(sizes, cp.Size)
		return nil
	}))
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, sizes, "one checkpoint per append, oldest first")
	assert.Equal(t, string(f.object("audit/log/checkpoints/00000000000000000005")), string(mustCheckpoint(t, l)))
	leaves := requireLog(t, l, key.Public)
	assert.Equal(t, recs[0].ID, leaves[0].ID)

	_, err := l.LeafIndex(ctx, "r-none")
	require.ErrorIs(t, err, errs.ErrNotFound)
	var got []string
	require.NoError(t, l.Leaves(ctx, 3, 100, func(lf Leaf) error { got = append(got, lf.ID); return nil }))
	assert.Equal(t, []string{recs[3].ID, recs[4].ID}, got, "a range past the end stops at the end")
}

func mustCheckpoint(t *testing.T, l Ledger) []byte {
	t.Helper()
	note, err := l.Checkpoint(context.Background())
	require.NoError(t, err)
	return note
}

// The newest checkpoint is found past a hint that lags, and a hint ahead
// of the log (edited) does not hide the leaves or the checkpoints.
func TestS3LogHintIsOnlyAHint(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	l := keyedS3(f, key)
	for i := range 4 {
		appendAtHead(t, l, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
	}
	for _, h := range []string{`{"size":2}`, `{"size":90}`, `garbage`} {
		f.put("audit/log/head.json", []byte(h))
		fresh := newS3Ledger(l.client, testBucket, "audit")
		fresh.readOnly = true
		size, err := fresh.LogSize(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(4), size, h)
		cp, err := merkle.Open(mustCheckpoint(t, fresh), key.Public)
		require.NoError(t, err)
		assert.Equal(t, int64(4), cp.Size, h)
	}
	appendAtHead(t, keyedS3(f, key), newRecord("web", "prod", digestN(9), t0.Add(timeStep(9))))
	assert.JSONEq(t, `{"size":5}`, string(f.object("audit/log/head.json")), "the next writer replaces it")
	requireLog(t, l, key.Public)
}

// What logging costs an append, on a chain and a log of 40 records: the
// reads of the log's key and size hint go with the read of the expected
// record (none here: Head read it) and of its log id; then, still before
// the record is stored, the read of the hinted last leaf and, with a key,
// of the checkpoint of the hinted size and of the leaves holding the other
// hashes of its root, which the writer checks against it (checkTree).
// With a key the record's signed intent is written with its id index.
// After the record: the leaf, its log id and, with a key, the checkpoint,
// and the hint: 10 requests without a key and 14 with one (12 before
// intents and the check), against 3 without the log.
func TestS3AppendRequests(t *testing.T) {
	ctx := context.Background()
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			f := newFakeS3(t)
			var key *Key
			if keyed {
				key = testKey(t, "promote.test/ledger")
			}
			seed := keyedS3(f, key)
			for i := range 40 {
				appendAtHead(t, seed, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
			}
			l, reqs := f.countingLedger("audit")
			l.logSigner = logSigner{key}
			head, err := l.Head(ctx, "web", "prod")
			require.NoError(t, err)
			reqs.all.Store(0)
			reqs.gets.Store(0)
			reqs.puts.Store(0)
			reqs.lists.Store(0)
			require.NoError(t, l.Append(ctx, newRecord("web", "prod", digestN(99), t0.Add(timeStep(99))), head))
			t.Logf("append: %d requests: %d GET, %d PUT, %d LIST",
				reqs.all.Load(), reqs.gets.Load(), reqs.puts.Load(), reqs.lists.Load())
			assert.Zero(t, reqs.lists.Load())
			// Without the log: PUT the id index, the record and the head
			// hint; the expected record was read by Head.
			assert.Equal(t, int64(4), reqs.gets.Load()-2*b2i(keyed), "key, log hint, prev log id, leaf 39")
			assert.Equal(t, int64(6), reqs.puts.Load()-2*b2i(keyed), "+ leaf, log id, log hint")
			if keyed {
				// The root of 40 leaves is that of subtrees [0,32) and
				// [32,40): leaf 31 is read, and 39 by the walk; the root of
				// 41 adds leaf 40, ours.
				t.Log("keyed: + checkpoint 40, leaf 31; + intent, checkpoint 41")
			}
			requireLog(t, l, "")
		})
	}
}

// b2i is 1 for true.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// failingPuts fails every PUT whose path contains one of the strings, as
// if the runner died right before it.
type failingPuts []string

func (p failingPuts) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, s := range p {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, s) {
			return nil, fmt.Errorf("simulated crash before writing %s", r.URL.Path)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// dyingLedger is a runner on f that dies before any PUT to paths.
func (f *fakeS3) dyingLedger(paths ...string) *s3Ledger {
	client := s3.New(f.client().Options(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: failingPuts(paths)}
		o.RetryMaxAttempts = 1
	})
	return newS3Ledger(client, testBucket, "audit")
}
