package ledger

// The S3 log heals: a writer that stopped between its record and its leaf
// (or its log id), and a ledger written before the log.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendUnlogged appends rec at its chain's head through l, which dies
// before some write of the log, and requires the error that says so.
func appendUnlogged(t *testing.T, l *s3Ledger, rec *Record, want string) error {
	t.Helper()
	ctx := context.Background()
	head, err := l.Head(ctx, rec.App, rec.Env)
	require.NoError(t, err)
	err = l.Append(ctx, rec, head)
	require.ErrorContains(t, err, want)
	assert.ErrorIs(t, err, ErrLogBehind, "the engine takes the record as made")
	assert.Equal(t, head.Seq+1, rec.Seq, "the record is stored, and rec says what was stored")
	return err
}

// A writer that died before its leaf leaves its record in its chain, not
// in the log, and says so; the next append of the chain logs it first, in
// its place, and Upgrade logs one left by the last append of a chain.
func TestS3LogHealsWriterThatDiedBeforeItsLeaf(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	key := testKey(t, "promote.test/ledger")
	l := keyedS3(f, key)
	for i := range 2 {
		appendAtHead(t, l, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
	}
	appendAtHead(t, l, newRecord("api", "prod", digestN(5), t0.Add(timeStep(5))))
	dying := f.dyingLedger("/log/leaves/")
	dying.logSigner = logSigner{key}
	lost := newRecord("web", "prod", digestN(10), t0.Add(timeStep(10)))
	err := appendUnlogged(t, dying, lost, "is stored in its chain but not logged; "+
		"the next append to web in prod, or promote ledger upgrade, logs it: the record is stored but the ledger's log is behind: record is not in the ledger's log: ")
	require.ErrorIs(t, err, ErrNotLogged)
	_, err = l.LeafIndex(ctx, lost.ID)
	require.ErrorIs(t, err, ErrNotLogged)
	requireLinearChain(t, l, "web", "prod", 3)

	appendAtHead(t, keyedS3(f, key), newRecord("web", "prod", digestN(11), t0.Add(timeStep(11))))
	leaves := requireLog(t, l, key.Public)
	require.Len(t, leaves, 5)
	assert.Equal(t, lost.ID, leaves[3].ID, "logged before the record after it")

	last := newRecord("api", "prod", digestN(20), t0.Add(timeStep(20)))
	require.ErrorIs(t, appendUnlogged(t, dying, last, "stored in its chain but not logged"), ErrNotLogged)
	up, err := keyedS3(f, key).Upgrade(ctx, UpgradeOptions{})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 1, Size: 6, Signed: true}, up)
	requireLog(t, l, key.Public)
}

// A writer that died between its leaf and its log id leaves its record
// logged but not found by LeafIndex; the next append of the chain writes
// the log id, without logging the record again.
func TestS3LogHealsWriterThatDiedBeforeItsLogID(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	l := f.ledger("audit")
	appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
	half := newRecord("web", "prod", digestN(2), t0.Add(timeStep(2)))
	err := appendUnlogged(t, f.dyingLedger("/log/ids/"), half,
		"is stored and logged as leaf 1, but its log index is not written")
	require.NotErrorIs(t, err, ErrNotLogged, "it is in the log")
	_, err = l.LeafIndex(ctx, half.ID)
	require.ErrorIs(t, err, ErrNotLogged)

	appendAtHead(t, f.ledger("audit"), newRecord("web", "prod", digestN(3), t0.Add(timeStep(3))))
	leaves := requireLog(t, l, "")
	assert.Equal(t, half.ID, leaves[1].ID)
}

// sdkRetriedLeaf lets the first PUT of a leaf through but answers 500, so
// that the SDK sends it again and the retry finds the leaf taken: by
// itself.
type sdkRetriedLeaf struct{ failed atomic.Bool }

func (s *sdkRetriedLeaf) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/log/leaves/") || s.failed.Swap(true) {
		return resp, err
	}
	_ = resp.Body.Close()
	const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>x</Message></Error>`
	return &http.Response{StatusCode: http.StatusInternalServerError, Status: "500 Internal Server Error",
		Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// A leaf PUT that succeeded but whose answer was lost is retried by the
// SDK and refused with 412: the writer finds its own leaf there and does
// not log its record again.
func TestS3LogLeafPutRetriedBySDK(t *testing.T) {
	f := newFakeS3(t)
	seed := f.ledger("audit")
	appendAtHead(t, seed, newRecord("web", "prod", digestN(1), t0))
	retried := &sdkRetriedLeaf{}
	client := s3.New(f.client().Options(), func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: retried} })
	appendAtHead(t, newS3Ledger(client, testBucket, "audit"), newRecord("web", "prod", digestN(2), t0.Add(time.Minute)))
	require.True(t, retried.failed.Load())
	assert.Len(t, requireLog(t, seed, ""), 2)
}

// writeOldLedger writes records into three chains, one whose clock goes
// backwards, then removes the log: a ledger written before the log.
func writeOldLedger(t *testing.T, f *fakeS3) []*Record {
	l := f.ledger("audit")
	var recs []*Record
	for i := range 12 {
		rec := newRecord([]string{"web", "api", "skew"}[i%3], "prod", digestN(i), t0.Add(timeStep(i)))
		if rec.App == "skew" {
			rec.Time = t0.Add(-timeStep(i)) // each later record has an earlier time
		}
		appendAtHead(t, l, rec)
		recs = append(recs, rec)
	}
	s3Raw{f}.removeLog()
	return recs
}

// chainObjects is every object of the ledger but the log, by key.
func chainObjects(f *fakeS3) map[string]string {
	out := f.contents()
	for k := range out {
		if strings.HasPrefix(k, "audit/log/") {
			delete(out, k)
		}
	}
	return out
}

// Upgrade logs every record of a ledger written before the log, each chain
// in seq order even where its clock went backwards, the chains by time,
// changing no record, hash, index or hint; a second Upgrade has nothing
// to do. With a key it signs it for the first time only when told to: its
// records carry no intents.
func TestS3UpgradeOldLedger(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	recs := writeOldLedger(t, f)
	before := chainObjects(f)
	key := testKey(t, "promote.test/ledger")
	l := keyedS3(f, key)
	_, err := l.LeafIndex(ctx, recs[0].ID)
	require.ErrorIs(t, err, ErrNotLogged)

	_, err = l.Upgrade(ctx, UpgradeOptions{})
	require.ErrorIs(t, err, ErrLogTampered)
	assert.ErrorContains(t, err, "the log holds 0 leaves (and 12 records no leaf logs) and no signed checkpoint")
	assert.ErrorContains(t, err, "promote ledger upgrade --sign-unsigned")
	assert.Empty(t, f.keys("audit/log/"), "nothing logged")
	up, err := l.Upgrade(ctx, UpgradeOptions{SignUnsigned: true})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 12, Size: 12, Signed: true}, up)
	assert.Equal(t, before, chainObjects(f), "no record object, index or hint changed")
	leaves := requireLog(t, l, key.Public)
	var order []string
	for _, lf := range leaves {
		order = append(order, lf.ID)
	}
	// skew's records all have times before the others': its chain first.
	want := []string{recs[2].ID, recs[5].ID, recs[8].ID, recs[11].ID}
	for i := range 12 {
		if i%3 != 2 {
			want = append(want, recs[i].ID)
		}
	}
	assert.Equal(t, want, order)
	requireLinearChain(t, l, "web", "prod", 4)

	up, err = keyedS3(f, key).Upgrade(ctx, UpgradeOptions{})
	require.NoError(t, err)
	assert.Equal(t, Upgraded{Logged: 0, Size: 12, Signed: true}, up)
	assert.Len(t, f.keys("audit/log/checkpoints/"), 1, "the checkpoint of 12 leaves, stored once")
}

// The first append after a binary upgrade logs the old records before its
// own: into an existing chain through its previous record, into a new
// chain because the log is empty while records exist.
func TestS3FirstAppendLogsOldLedger(t *testing.T) {
	for _, app := range []string{"web", "new"} {
		t.Run(app, func(t *testing.T) {
			f := newFakeS3(t)
			recs := writeOldLedger(t, f)
			l := f.ledger("audit")
			rec := newRecord(app, "prod", digestN(99), t0.Add(timeStep(99)))
			appendAtHead(t, l, rec)
			leaves := requireLog(t, l, "")
			require.Len(t, leaves, len(recs)+1)
			assert.Equal(t, rec.ID, leaves[len(recs)].ID, "the new record last")
		})
	}
}

// appendOrder keeps every chain's seq order and merges the chains by time.
func TestS3AppendOrder(t *testing.T) {
	at := func(app string, seq int64, minute int) loggable {
		return loggable{rec: Record{App: app, Env: "prod", Seq: seq, Time: t0.Add(timeStep(minute)),
			ID: fmt.Sprintf("%s-%d", app, seq)}}
	}
	in := []loggable{at("b", 2, 1), at("a", 1, 5), at("b", 1, 3), at("a", 2, 4), at("c", 1, 4)}
	var got []string
	for _, s := range appendOrder(in) {
		got = append(got, s.rec.ID)
	}
	assert.Equal(t, []string{"b-1", "b-2", "c-1", "a-1", "a-2"}, got)
}
