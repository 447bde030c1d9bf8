package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// keys lists the keys of the test bucket under prefix.
func (f *fakeS3) keys(prefix string) []string {
	f.t.Helper()
	var out []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)}
	p := s3.NewListObjectsV2Paginator(f.client(), in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(f.t, err)
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

// removeLog deletes every object of the log, as anyone with write access
// to the bucket can.
func (r s3Raw) removeLog() {
	for _, k := range r.f.keys("audit/log/") {
		r.f.remove(k)
	}
}

// rebuildLog removes every object under log/ (leaves, log ids,
// checkpoints, key and size hint) and writes the leaves of the records ids
// in order, each found through its index ids/<id>, with the stored hashes
// an honest writer computes from the records' stored bodies, and their log
// ids; no checkpoint is signed and no hint written.
func (r s3Raw) rebuildLog(ids []string) {
	t := r.f.t
	t.Helper()
	r.removeLog()
	l := r.f.ledger("audit")
	var tree memTree
	for n, id := range ids {
		var ix idIndex
		require.NoError(t, json.Unmarshal(r.f.object(l.idKey(id)), &ix), id)
		require.True(t, strings.HasPrefix(ix.Record, "audit/records/"), ix.Record)
		body, hash, err := decodeObject(r.f.object(ix.Record))
		require.NoError(t, err, id)
		_, hashes, err := tree.add(body)
		require.NoError(t, err)
		lf := s3Leaf{ID: id, Record: ix.Record, Hash: hash}
		for _, h := range hashes {
			lf.Stored = append(lf.Stored, append([]byte(nil), h[:]...))
		}
		data, err := json.Marshal(lf)
		require.NoError(t, err)
		r.f.put(l.leafKey(int64(n)), data)
		data, err = json.Marshal(logIDIndex{Leaf: int64(n)})
		require.NoError(t, err)
		r.f.put(l.logIDKey(id), data)
	}
}

// appendForged stores rec (re-hashed) after its chain's highest record, with
// its id index, and logs it as the log's next leaf with the stored hashes
// an honest writer computes, and its log id; it signs nothing and writes
// no intent. With moveHint it also moves the log's size hint past the
// leaf. A record added by someone who can write the bucket but does not
// hold the key.
func (r s3Raw) appendForged(rec Record, moveHint bool) {
	t := r.f.t
	t.Helper()
	l := r.f.ledger("audit")
	var top string
	for _, k := range r.f.keys(l.recordsPrefix(rec.App, rec.Env)) {
		top = k // in key order: the highest seq last
	}
	require.NotEmpty(t, top, "the chain has a record")
	head, err := decodeRecordObject(r.f.object(top))
	require.NoError(t, err)
	rec.Seq, rec.PrevHash = head.Seq+1, head.Hash
	body := rehash(t, &rec)
	key := r.key(rec.App, rec.Env, rec.Seq)
	r.f.put(key, encodeObject(body, rec.Hash))
	ix, err := json.Marshal(idIndex{Record: key})
	require.NoError(t, err)
	r.f.put(l.idKey(rec.ID), ix)

	var tree memTree
	for _, k := range r.f.keys("audit/log/leaves/") {
		var lf s3Leaf
		require.NoError(t, json.Unmarshal(r.f.object(k), &lf), k)
		b, _, err := decodeObject(r.f.object(lf.Record))
		require.NoError(t, err, lf.Record)
		_, _, err = tree.add(b)
		require.NoError(t, err)
	}
	n := tree.size
	_, hashes, err := tree.add(body)
	require.NoError(t, err)
	lf := s3Leaf{ID: rec.ID, Record: key, Hash: rec.Hash}
	for _, h := range hashes {
		lf.Stored = append(lf.Stored, append([]byte(nil), h[:]...))
	}
	data, err := json.Marshal(lf)
	require.NoError(t, err)
	r.f.put(l.leafKey(n), data)
	data, err = json.Marshal(logIDIndex{Leaf: n})
	require.NoError(t, err)
	r.f.put(l.logIDKey(rec.ID), data)
	if moveHint {
		r.f.put(l.logHintKey(), fmt.Appendf(nil, `{"size":%d}`, n+1))
	}
}
