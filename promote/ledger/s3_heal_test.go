package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashBeforeHint fails every write of a head hint, as if the runner died
// right after creating its record object.
type crashBeforeHint struct{}

func (crashBeforeHint) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/heads/") {
		return nil, errors.New("simulated crash before the head hint update")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// crashingLedger is a runner on f whose head hint writes never happen.
func (f *fakeS3) crashingLedger(prefix string) *s3Ledger {
	client := s3.New(f.client().Options(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: crashBeforeHint{}}
		o.RetryMaxAttempts = 1
	})
	return newS3Ledger(client, testBucket, prefix)
}

func readHintObject(t *testing.T, f *fakeS3, key string) hint {
	t.Helper()
	var h hint
	require.NoError(t, json.Unmarshal(f.object(key), &h))
	return h
}

func TestS3HeadHealsAfterCrashBeforeHintUpdate(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	const hintKey = "audit/heads/web/prod.json"
	for i := range 3 {
		appendAtHead(t, l, newRecord("web", "prod", digestN(i), t0))
	}
	crashing := f.crashingLedger("audit")
	var last *Record
	for i := range 2 {
		last = newRecord("web", "prod", digestN(10+i), t0)
		appendAtHead(t, crashing, last) // each append succeeds; only the hint is lost
	}
	assert.Equal(t, int64(3), readHintObject(t, f, hintKey).Seq, "the hint is stale")

	fresh := f.ledger("audit")
	head, err := fresh.Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 5, Hash: last.Hash}, head, "Head probes past the stale hint")
	assert.Equal(t, hint{Seq: 5, Hash: last.Hash}, readHintObject(t, f, hintKey), "and heals it")

	appendAtHead(t, fresh, newRecord("web", "prod", digestN(20), t0))
	requireLinearChain(t, fresh, "web", "prod", 6)
}

func TestS3HeadWithoutHintListsTheChain(t *testing.T) {
	ctx := context.Background()
	_, f := openTestS3(t)
	crashing := f.crashingLedger("audit") // no hint is ever written
	var last *Record
	for i := range 4 {
		last = newRecord("web", "prod", digestN(i), t0)
		appendAtHead(t, crashing, last)
	}
	assert.False(t, f.exists("audit/heads/web/prod.json"))

	l, reqs := f.countingLedger("audit")
	head, err := l.Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 4, Hash: last.Hash}, head)
	assert.Equal(t, int64(1), reqs.lists.Load(), "records without a hint: one listing, not a probe per record")
	assert.Equal(t, hint{Seq: 4, Hash: last.Hash}, readHintObject(t, f, "audit/heads/web/prod.json"))

	// A hint that is not JSON is replaced, and a hint naming a record that
	// is gone is corrected by listing.
	f.put("audit/heads/web/prod.json", []byte("garbage"))
	head, err = f.ledger("audit").Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, int64(4), head.Seq)
	assert.Equal(t, int64(4), readHintObject(t, f, "audit/heads/web/prod.json").Seq)

	f.put("audit/heads/web/prod.json", []byte(`{"seq":9,"hash":"sha256:gone"}`))
	head, err = f.ledger("audit").Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 4, Hash: last.Hash}, head)
}

// A runner that dies between its id index and its record leaves an index
// pointing nowhere: Get finds nothing, and the chain is untouched.
func TestS3CrashBeforeRecordLeavesNoRecord(t *testing.T) {
	ctx := context.Background()
	l, f := openTestS3(t)
	appendAtHead(t, l, newRecord("web", "prod", digestN(1), t0))
	f.put("audit/ids/r-dead", []byte(`{"record":"audit/records/web/prod/00000000000000000002.json"}`))
	_, err := l.Get(ctx, "r-dead")
	require.Error(t, err)
	head, err := l.Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, int64(1), head.Seq)
	requireLinearChain(t, l, "web", "prod", 1)
}
