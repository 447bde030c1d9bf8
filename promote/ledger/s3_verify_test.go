package ledger

// What Verify finds on S3 beyond the conformance suite: records deleted
// from a chain's end and a rewritten head, through the head hint, and
// objects that are not records at all.

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tamperedS3 is tamperedStore on a new S3 store, versioned or not, with its
// fake S3 for the edits.
func tamperedS3(t *testing.T, versioned bool) (Ledger, *fakeS3, []*Record) {
	t.Helper()
	s := newS3Store(t)
	f := s.raw.(s3Raw).f
	if versioned {
		f.enableVersioning()
	}
	l, prod := tamperedStore(t, s)
	return l, f, prod
}

func prodKey(seq int64) string { return fmt.Sprintf("audit/records/web/prod/%020d.json", seq) }

func TestS3VerifyFindsRecordsDeletedFromTheEnd(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	f.remove(prodKey(5))
	f.remove(prodKey(4))
	requireFirstProblem(t, l, 5, "head hint names seq 5 but the chain ends at seq 3")
}

// Unlike SQLite, a re-hashed last record is caught by the head hint, unless
// the editor rewrites the hint too: that is what Object Lock is for.
func TestS3VerifyRehashedLastRecordAndHint(t *testing.T) {
	l, f, prod := tamperedS3(t, false)
	edited := *prod[4]
	edited.Digest = "sha256:evil"
	s3Raw{f}.rewrite(edited)
	requireFirstProblem(t, l, 5, "the record was replaced")

	body, err := edited.Body()
	require.NoError(t, err)
	f.put("audit/heads/web/prod.json", fmt.Appendf(nil, `{"seq":5,"hash":%q}`, HashBody(body)))
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "a rewritten tail with its hint is beyond Verify, as for SQLite")
}

// An object whose framing holds a hash but whose body is no record is an
// edited record; an object under records/ whose key is no record key is
// reported by its key. (Bytes that are no record at all are in
// TestVerifyFindsStoredBytesThatAreNotARecord.)
func TestS3VerifyFindsObjectsThatAreNotRecords(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	f.put(prodKey(2), []byte(`{"id":"x","hash":"sha256:1"}`))
	requireFirstProblem(t, l, 2, "the record was edited")

	l, f, _ = tamperedS3(t, false)
	f.put("audit/records/web/prod/notes.txt", []byte("hello"))
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.Contains(t, rep.Problems[0].Msg, "audit/records/web/prod/notes.txt is not a record key")
}
