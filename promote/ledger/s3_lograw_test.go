package ledger

import (
	"context"
	"encoding/json"
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
