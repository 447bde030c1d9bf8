package promote

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
	"github.com/promote-dev/promote/promote/registry"
)

// keptProblems maps each kept checkpoint the audit found wrong to its problem.
func keptProblems(rep ledger.Report) map[string]string {
	out := map[string]string{}
	for _, k := range rep.Log.Kept {
		if !k.OK {
			out[k.Source] = k.Problem
		}
	}
	return out
}

// A writer of the store who also holds the ledger key rewrites a record,
// re-hashes it, rebuilds the log and re-signs its checkpoint: the store
// alone shows nothing, but the checkpoints published before do, and
// publishing refuses to add the rewritten history beside them.
func TestWitnessesDetectARewrittenLedger(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	ctx := ctxTimeout(t)
	kw.promoteN(e, "1.0")
	_, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	kw.promoteN(e, "2.0")
	_, err = e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	recs := kw.records(ledger.Query{App: "web", Env: "test"}) // newest first
	require.Len(t, recs, 2)

	kw.rewrite(recs[0].ID, func(r *ledger.Record) { r.Reason = "approved by the CISO" })
	e = kw.open()
	require.True(t, audit(t, e).OK(), "inside the store nothing shows: %+v", audit(t, e).Problems)

	kept, err := e.Witnessed(ctx, nil)
	require.NoError(t, err)
	rep := audit(t, e, kept...)
	require.False(t, rep.OK())
	repos := kw.witnesses()
	assert.Equal(t, map[string]string{
		repos[0] + ":checkpoint-2": "the log does not extend it: records among its first 2 leaves were rewritten, reordered, inserted or deleted",
		repos[1] + ":checkpoint-2": "the log does not extend it: records among its first 2 leaves were rewritten, reordered, inserted or deleted",
	}, keptProblems(rep), "checkpoint-1 still holds: the first record is untouched")

	pub, err := e.PublishCheckpoint(ctx)
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "already holds checkpoint-2")
	assert.Contains(t, err.Error(), "the ledger's history differs from what was witnessed")
	for _, w := range pub.Witnesses {
		assert.Equal(t, WitnessFailed, w.Action)
	}

	kw.promoteN(e, "3.0") // the rewritten history goes on
	kw.a.Requests()
	kw.b.Requests()
	pub, err = e.PublishCheckpoint(ctx)
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "does not extend "+repos[0]+":checkpoint-2")
	assert.Empty(t, regtest.Writes(append(kw.a.Requests(), kw.b.Requests()...)), "nothing published anywhere")
	for _, w := range pub.Witnesses {
		assert.Equal(t, WitnessFailed, w.Action, w.Repository)
	}
	assert.Equal(t, []string{"checkpoint-1", "checkpoint-2"}, kw.tags(repos[0]))
}

// A cut-short ledger is behind what its witnesses hold: publishing says so.
func TestPublishRefusesALedgerBehindItsWitnesses(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	ctx := ctxTimeout(t)
	kw.promoteN(e, "1.0")
	_, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	p, err := e.publishing(ctx)
	require.NoError(t, err)

	// A witness that holds a validly signed checkpoint of more leaves.
	skey := readKey(t, kw.keyFile)
	bigger, err := merkle.Sign(merkle.Checkpoint{Origin: keyOrigin, Size: 5, Root: p.cp.Root}, skey)
	require.NoError(t, err)
	pushNote(t, e, kw.test(WitnessApp), "checkpoint-5", bigger, CheckpointArtifactType)
	pub, err := e.PublishCheckpoint(ctx)
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "the ledger was cut short")
	assert.Equal(t, WitnessFailed, pub.Witnesses[0].Action)
	assert.Equal(t, WitnessWithheld, pub.Witnesses[1].Action, "nothing published anywhere")
}

// Checkpoint tags that hold no checkpoint signed by the ledger's key — a
// forged note, another artifact, a note of another size, an oversized
// one, a tag that names no size — are read back and reported by the
// audit, each by name; publishing looks past them.
func TestForgedWitnessesAreReported(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	ctx := ctxTimeout(t)
	kw.promoteN(e, "1.0")
	_, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	repo := kw.test(WitnessApp)
	p, err := e.publishing(ctx)
	require.NoError(t, err)

	other, _, err := merkle.KeyPair(keyOrigin, rand.Reader)
	require.NoError(t, err)
	forged, err := merkle.Sign(merkle.Checkpoint{Origin: keyOrigin, Size: 7, Root: p.cp.Root}, other)
	require.NoError(t, err)
	pushNote(t, e, repo, "checkpoint-7", forged, CheckpointArtifactType)
	pushNote(t, e, repo, "checkpoint-8", p.note, "application/vnd.example.other")
	pushNote(t, e, repo, "checkpoint-9", p.note, CheckpointArtifactType)
	pushNote(t, e, repo, "checkpoint-10", []byte(strings.Repeat("x", MaxCheckpointNote+1)), CheckpointArtifactType)
	pushNote(t, e, repo, "checkpoint-x", p.note, CheckpointArtifactType)
	regtest.Push(t, repo+":checkpoint-11", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))

	kept, err := e.Witnessed(ctx, []string{repo})
	require.NoError(t, err)
	rep := audit(t, e, kept...)
	require.False(t, rep.OK())
	problems := keptProblems(rep)
	assert.Len(t, problems, 6, "%v", problems)
	has := func(source, problem string) {
		t.Helper()
		for s, p := range problems {
			if strings.HasPrefix(s, repo+":"+source) && strings.Contains(s+" "+p, problem) {
				return
			}
		}
		t.Errorf("no problem for %s saying %q: %v", source, problem, problems)
	}
	has("checkpoint-7", "not a checkpoint signed by the ledger's key")
	has("checkpoint-8", "it holds an artifact of type application/vnd.example.other")
	has("checkpoint-9", "it holds a checkpoint of 1 leaf, not of 9 as its tag says")
	has("checkpoint-10", "more than the 65536 a checkpoint may be")
	has("checkpoint-x", "its tag names no tree size")
	has("checkpoint-11", "it holds a container image")

	kw.promoteN(e, "2.0")
	pub, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err, "forged tags do not stop publishing")
	assert.Equal(t, WitnessPublished, pub.Witnesses[0].Action)
	assert.Equal(t, int64(1), pub.Witnesses[0].Extends)
	assert.Equal(t, []string{"checkpoint-11", "checkpoint-10", "checkpoint-9", "checkpoint-8", "checkpoint-7"}, pub.Witnesses[0].Ignored)
}

// readKey is the signer key text in file.
func readKey(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// pushNote pushes note as a checkpoint-like artifact of artifactType under
// tag in repo, with the engine's registry client.
func pushNote(t *testing.T, e *Engine, repo, tag string, note []byte, artifactType string) {
	t.Helper()
	ctx := context.Background()
	r, err := e.reg.Repository(repo)
	require.NoError(t, err)
	m, err := checkpointArtifact(note, keyOrigin, 1)
	require.NoError(t, err)
	if artifactType != CheckpointArtifactType {
		m = &registry.Manifest{Type: m.Type, Raw: []byte(strings.Replace(string(m.Raw), CheckpointArtifactType+`"`, artifactType+`"`, 1))}
		m.Digest = sha256Hash(m.Raw)
	}
	for _, b := range []struct {
		mt   types.MediaType
		data []byte
	}{{types.OCIEmptyJSON, emptyJSON}, {CheckpointNoteType, note}} {
		_, err := e.wr.PutBlob(ctx, r, b.mt, b.data)
		require.NoError(t, err)
	}
	ref, err := e.reg.Tag(r, tag)
	require.NoError(t, err)
	require.NoError(t, e.wr.Put(ctx, ref, m))
}
