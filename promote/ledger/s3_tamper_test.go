package ledger

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tamperedS3 writes (web, prod) with five records and (api, test) with
// three, like tamperedLedger; the tests then edit the objects directly, as
// anyone with write access to the bucket can.
func tamperedS3(t *testing.T, versioned bool) (*s3Ledger, *fakeS3, []*Record) {
	t.Helper()
	l, f := openTestS3(t)
	if versioned {
		f.enableVersioning()
	}
	var prod []*Record
	for i := range 5 {
		rec := newRecord("web", "prod", digestN(i+1), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		prod = append(prod, rec)
	}
	for i := range 3 {
		appendAtHead(t, l, newRecord("api", "test", digestN(i+10), t0.Add(timeStep(i))))
	}
	return f.ledger("audit"), f, prod // a fresh ledger: nothing remembered
}

func prodKey(seq int64) string { return fmt.Sprintf("audit/records/web/prod/%020d.json", seq) }

func TestS3VerifyCleanLedger(t *testing.T) {
	for _, versioned := range []bool{false, true} {
		l, _, _ := tamperedS3(t, versioned)
		rep, err := l.Verify(context.Background())
		require.NoError(t, err)
		assert.Equal(t, Report{Chains: 2, Records: 8, Problems: []Problem{}}, rep, "versioned %v", versioned)
	}
}

func TestS3VerifyFindsEditedRecord(t *testing.T) {
	l, f, prod := tamperedS3(t, false)
	f.put(prodKey(3), bytes.Replace(f.object(prodKey(3)), []byte(`"user":"ci"`), []byte(`"user":"mallory"`), 1))
	rep := requireFirstProblem(t, l, 3, "the record was edited")
	assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
	assert.Len(t, rep.Problems, 1, "the records after it still link to its stored hash")
}

func TestS3VerifyFindsDeletedRecord(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	f.remove(prodKey(3))
	requireFirstProblem(t, l, 4, "record 3 is missing")
}

func TestS3VerifyFindsRecordsDeletedFromTheEnd(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	f.remove(prodKey(5))
	f.remove(prodKey(4))
	requireFirstProblem(t, l, 5, "head hint names seq 5 but the chain ends at seq 3")
}

func TestS3VerifyFindsReorderedRecords(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	two, three := f.object(prodKey(2)), f.object(prodKey(3))
	f.put(prodKey(2), three)
	f.put(prodKey(3), two)
	rep := requireFirstProblem(t, l, 2, "the record was moved")
	assert.Contains(t, rep.Problems[0].Msg, "is not the hash")
}

func TestS3VerifyFindsForgedInsertedRecord(t *testing.T) {
	l, f, prod := tamperedS3(t, false)
	// Make room at seq 3 (move 3..5 to 4..6) and insert a record that is
	// itself perfect: right seq, linked to seq 2, hash recomputed.
	for seq := int64(5); seq >= 3; seq-- {
		f.put(prodKey(seq+1), f.object(prodKey(seq)))
	}
	forged := newRecord("web", "prod", "sha256:evil", t0.Add(timeStep(2)))
	forged.MediaType, forged.ID, forged.Seq, forged.PrevHash = MediaType, "r-f0f0f0f0f0f0", 3, prod[1].Hash
	body, err := forged.Body()
	require.NoError(t, err)
	f.put(prodKey(3), encodeObject(body, HashBody(body)))

	rep := requireFirstProblem(t, l, 4, "is not the hash")
	assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
	assert.Contains(t, rep.Problems[0].Msg, "the record was moved")
}

func TestS3VerifyFindsRehashedMiddleRecord(t *testing.T) {
	l, f, prod := tamperedS3(t, false)
	edited := *prod[2]
	edited.Digest = "sha256:evil"
	body, err := edited.Body()
	require.NoError(t, err)
	f.put(prodKey(3), encodeObject(body, HashBody(body)))
	requireFirstProblem(t, l, 4, "is not the hash")
}

// Unlike SQLite, a re-hashed last record is caught by the head hint, unless
// the editor rewrites the hint too: that is what Object Lock is for.
func TestS3VerifyRehashedLastRecordAndHint(t *testing.T) {
	l, f, prod := tamperedS3(t, false)
	edited := *prod[4]
	edited.Digest = "sha256:evil"
	body, err := edited.Body()
	require.NoError(t, err)
	f.put(prodKey(5), encodeObject(body, HashBody(body)))
	requireFirstProblem(t, l, 5, "the record was replaced")

	f.put("audit/heads/web/prod.json", fmt.Appendf(nil, `{"seq":5,"hash":%q}`, HashBody(body)))
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "a rewritten tail with its hint is beyond Verify, as for SQLite")
}

func TestS3VerifyFindsObjectsThatAreNotRecords(t *testing.T) {
	l, f, _ := tamperedS3(t, false)
	f.put(prodKey(2), []byte(`{"id":`))
	requireFirstProblem(t, l, 2, "object is not a stored record")

	l, f, _ = tamperedS3(t, false)
	f.put(prodKey(2), []byte(`{"id":"x","hash":"sha256:1"}`))
	requireFirstProblem(t, l, 2, "the record was edited")

	l, f, _ = tamperedS3(t, false)
	f.put("audit/records/web/prod/notes.txt", []byte("hello"))
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.Contains(t, rep.Problems[0].Msg, "audit/records/web/prod/notes.txt is not a record key")
}
