package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// contents lists every object in the test bucket, key to a digest of its
// bytes.
func (f *fakeS3) contents() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(f.client(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(f.t, err)
		for _, o := range page.Contents {
			sum := sha256.Sum256(f.object(aws.ToString(o.Key)))
			out[aws.ToString(o.Key)] = hex.EncodeToString(sum[:])
		}
	}
	return out
}

// methodLog records the method and path of every request a client sends
// other than GET and HEAD.
type methodLog struct {
	mu     sync.Mutex
	writes []string
	reads  int
}

func (m *methodLog) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		m.reads++
	} else {
		m.writes = append(m.writes, r.Method+" "+r.URL.Path)
	}
	m.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// The S3 ledger OpenReadOnly opens sends no PUT, DELETE or POST, even
// where a writable one heals a stale head hint: here the hint is two
// records behind, as a runner that died before moving it leaves it.
func TestOpenReadOnlyS3SendsNoWrite(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t)
	f.enableVersioning()
	seed := f.ledger("audit")
	for i := range 3 {
		appendAtHead(t, seed, newRecord("web", "prod", digestN(i), t0.Add(timeStep(i))))
	}
	crashing := f.crashingLedger("audit")
	last := newRecord("web", "prod", digestN(10), t0.Add(timeStep(10)))
	appendAtHead(t, crashing, newRecord("web", "prod", digestN(9), t0.Add(timeStep(9))))
	appendAtHead(t, crashing, last)
	before := f.contents()
	require.Equal(t, int64(3), readHintObject(t, f, "audit/heads/web/prod.json").Seq)

	setAWSEnv(t, "AWS_ENDPOINT_URL_S3", f.server.URL)
	opened, err := OpenReadOnly(ctx, "s3://"+testBucket+"/audit")
	require.NoError(t, err)
	l := opened.(*s3Ledger)
	log := &methodLog{}
	l.client = s3.New(l.client.Options(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: log}
		o.Logger = logging.Nop{} // the fake sends no checksums, which the SDK would log
	})

	head, err := l.Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, Head{Seq: 5, Hash: last.Hash}, head, "Head probes past the stale hint")
	cur, err := l.Records(ctx, Query{App: "web", Env: "prod", Limit: 1})
	require.NoError(t, err)
	require.Len(t, cur, 1)
	assert.Equal(t, last.ID, cur[0].ID)
	all, err := l.RecordsChecked(ctx, Query{})
	require.NoError(t, err)
	assert.Len(t, all, 5)
	_, err = l.Get(ctx, last.ID)
	require.NoError(t, err)
	rep, err := l.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Records)
	_, err = Check(ctx, l)
	require.NoError(t, err)
	requireRefusesWrites(t, l, head)
	require.NoError(t, l.Close())

	assert.Empty(t, log.writes, "a read-only ledger sent a write")
	assert.Positive(t, log.reads)
	assert.Equal(t, before, f.contents())
	assert.Equal(t, int64(3), readHintObject(t, f, "audit/heads/web/prod.json").Seq, "the stale hint is left for a writer to heal")

	// A writable ledger does heal it: the read above was on the healing path.
	_, err = f.ledger("audit").Head(ctx, "web", "prod")
	require.NoError(t, err)
	assert.Equal(t, int64(5), readHintObject(t, f, "audit/heads/web/prod.json").Seq)
}
