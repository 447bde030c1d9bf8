package ledger

// The conformance suite, part five: Verify finds what was done to the
// stored records behind the ledger's back, on every backend.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTwoChains writes (web, prod) with five records and (api, test) with
// three, and returns those of (web, prod).
func writeTwoChains(t *testing.T, l Ledger) []*Record {
	t.Helper()
	var prod []*Record
	for i := range 5 {
		rec := newRecord("web", "prod", digestN(i+1), t0.Add(timeStep(i)))
		appendAtHead(t, l, rec)
		prod = append(prod, rec)
	}
	for i := range 3 {
		appendAtHead(t, l, newRecord("api", "test", digestN(i+10), t0.Add(timeStep(i))))
	}
	return prod
}

// tamperedStore writes two chains (writeTwoChains) into s and returns a
// fresh Ledger on it, which remembers nothing, for the test to check after
// it edits the storage through s.raw.
func tamperedStore(t *testing.T, s *store) (Ledger, []*Record) {
	t.Helper()
	prod := writeTwoChains(t, s.open())
	return s.open(), prod
}

// requireFirstProblem runs Verify and asserts that the first record it
// names is seq in (web, prod), with a message containing msg.
func requireFirstProblem(t *testing.T, l Ledger, seq int64, msg string) Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	require.False(t, rep.OK(), "verify missed the tampering")
	first := rep.Problems[0]
	assert.Equal(t, "web", first.App)
	assert.Equal(t, "prod", first.Env)
	assert.Equal(t, seq, first.Seq, "first problem: %s", first.Msg)
	assert.Contains(t, first.Msg, msg)
	assert.Equal(t, 2, rep.Chains)
	for _, p := range rep.Problems {
		assert.Equal(t, "web", p.App, "the untouched chain checks out: %+v", p)
	}
	return rep
}

func TestVerifyCleanLedger(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, _ := tamperedStore(t, s)
		rep, err := l.Verify(context.Background())
		require.NoError(t, err)
		assert.True(t, rep.OK())
		assert.Equal(t, Report{Chains: 2, Records: 8, Problems: []Problem{}}, rep)
	})
}

func TestVerifyFindsEditedRecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, prod := tamperedStore(t, s)
		s.raw.replace("web", "prod", 3, `"user":"ci"`, `"user":"mallory"`)
		rep := requireFirstProblem(t, l, 3, "the record was edited")
		assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
		assert.Len(t, rep.Problems, 1, "the records after it still link to its stored hash")
	})
}

func TestVerifyFindsDeletedRecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, _ := tamperedStore(t, s)
		s.raw.remove("web", "prod", 3)
		requireFirstProblem(t, l, 4, "record 3 is missing")
	})
}

func TestVerifyFindsSwappedRecords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, _ := tamperedStore(t, s)
		s.raw.swap("web", "prod", 2, 3)
		rep := requireFirstProblem(t, l, 2, s.says.moved)
		assert.Contains(t, rep.Problems[0].Msg, "is not the hash")
	})
}

func TestVerifyFindsForgedInsertedRecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, prod := tamperedStore(t, s)
		// The forger makes room at seq 3 and inserts a record that is itself
		// perfect: right seq, linked to seq 2, hash recomputed. The displaced
		// original third record no longer fits where it now stands.
		forged := newRecord("web", "prod", "sha256:evil", t0.Add(timeStep(2)))
		forged.MediaType, forged.ID, forged.Seq, forged.PrevHash = MediaType, "r-f0f0f0f0f0f0", 3, prod[1].Hash
		s.raw.insert(*forged)

		rep := requireFirstProblem(t, l, 4, "is not the hash")
		assert.Equal(t, prod[2].ID, rep.Problems[0].RecordID)
		assert.Contains(t, rep.Problems[0].Msg, s.says.moved)
	})
}

func TestVerifyFindsRehashedMiddleRecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, prod := tamperedStore(t, s)
		edited := *prod[2]
		edited.Digest = "sha256:evil"
		s.raw.rewrite(edited)
		// Seq 3 checks out on its own; the record after it no longer links.
		requireFirstProblem(t, l, 4, "is not the hash")
	})
}

func TestVerifyFindsStoredBytesThatAreNotARecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store) {
		l, _ := tamperedStore(t, s)
		s.raw.corrupt("web", "prod", 2, `{"id":`)
		requireFirstProblem(t, l, 2, s.says.notRecord)
	})
}
