package promote

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// junkTags pushes one plain image to repo under checkpoint-from, and the
// same manifest under the n-1 tags of the sizes after it: what anyone
// with push rights to a witness repository can write there.
func junkTags(t *testing.T, e *Engine, repo string, from, n int) []string {
	t.Helper()
	ctx := context.Background()
	regtest.Push(t, fmt.Sprintf("%s:checkpoint-%d", repo, from), regtest.Image(t, 1, regtest.Labels("junk"), "1000"))
	r, err := e.reg.Repository(repo)
	require.NoError(t, err)
	first, err := e.reg.Tag(r, fmt.Sprintf("checkpoint-%d", from))
	require.NoError(t, err)
	m, err := e.rd.Get(ctx, first)
	require.NoError(t, err)
	tags := []string{first.TagStr()}
	for i := from + 1; i < from+n; i++ {
		ref, err := e.reg.Tag(r, fmt.Sprintf("checkpoint-%d", i))
		require.NoError(t, err)
		require.NoError(t, e.wr.Put(ctx, ref, m))
		tags = append(tags, ref.TagStr())
	}
	return tags
}

// rewrittenAndJunked is the keyed world after two promotions published to
// both default witnesses, junk tags pushed above them (n per witness,
// from checkpoint-1000), the second record rewritten and re-signed by a
// writer of the store who holds the key, and a third promotion appended
// to the rewritten history: publish must not add its checkpoint beside
// the witnessed one it does not extend.
func rewrittenAndJunked(t *testing.T, n int) (*keyedWorld, *Engine, []string) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	kw.promoteN(e, "1.0", "2.0")
	_, err := e.PublishCheckpoint(ctxTimeout(t))
	require.NoError(t, err)
	var junk []string
	for _, repo := range kw.witnesses() {
		junk = junkTags(t, e, repo, 1000, n)
	}
	recs := kw.records(ledger.Query{App: "web", Env: "test"}) // newest first
	kw.rewrite(recs[0].ID, func(r *ledger.Record) { r.Reason = "approved by the CISO" })
	e = kw.open()
	kw.promoteN(e, "3.0")
	return kw, e, junk
}

// Junk images pushed under checkpoint tags above the witnessed ones do not
// stop the survey short of the checkpoint signed by the ledger's key: it
// reads past them, finds the rewrite, and publishes nothing anywhere.
func TestWitnessJunkTagsDoNotHideARewrite(t *testing.T) {
	kw, e, junk := rewrittenAndJunked(t, 8)
	kw.a.Requests()
	kw.b.Requests()
	pub, err := e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrConflict, "the junk must not let the rewritten ledger's checkpoint through")
	repos := kw.witnesses()
	assert.Contains(t, err.Error(), "does not extend "+repos[0]+":checkpoint-2")
	assert.Empty(t, regtest.Writes(append(kw.a.Requests(), kw.b.Requests()...)), "nothing published anywhere")
	require.Len(t, pub.Witnesses, 2)
	var above []string // the junk, largest first
	for i := len(junk) - 1; i >= 0; i-- {
		above = append(above, junk[i])
	}
	for _, w := range pub.Witnesses {
		assert.Equal(t, WitnessFailed, w.Action, w.Repository)
		assert.Equal(t, above, w.Ignored, "every junk tag read is listed")
	}
	for _, r := range repos {
		assert.NotContains(t, kw.tags(r), "checkpoint-3")
	}
}

// Past maxSurveyReads tags that hold no checkpoint signed by the ledger's
// key, the survey gives up: the witness fails closed, as on a conflict,
// naming the repository and saying to remove the junk, and nothing is
// published anywhere.
func TestWitnessPublishFailsClosedPastTooManyJunkTags(t *testing.T) {
	defer func(n int) { maxSurveyReads = n }(maxSurveyReads)
	maxSurveyReads = 20 // the test registry lists no more than 1000 tags
	kw, e, _ := rewrittenAndJunked(t, maxSurveyReads+1)
	kw.a.Requests()
	kw.b.Requests()
	pub, err := e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Empty(t, regtest.Writes(append(kw.a.Requests(), kw.b.Requests()...)), "nothing published anywhere")
	for i, w := range pub.Witnesses {
		repo := kw.witnesses()[i]
		assert.Equal(t, WitnessFailed, w.Action, repo)
		assert.Contains(t, w.Error, "witness "+repo+" ")
		assert.Contains(t, w.Error, fmt.Sprintf("the %d checkpoint tags read", maxSurveyReads))
		assert.Contains(t, w.Error, "remove the tags that hold no checkpoint")
		assert.Len(t, w.Ignored, maxSurveyReads)
	}

	// The same junk over an honest ledger: it fails closed all the same.
	kw = newKeyedWorld(t, nil)
	e = kw.open()
	kw.promoteN(e, "1.0")
	_, err = e.PublishCheckpoint(ctxTimeout(t))
	require.NoError(t, err)
	repo := kw.witnesses()[0]
	junkTags(t, e, repo, 1000, maxSurveyReads+1)
	kw.promoteN(e, "2.0")
	pub, err = e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Equal(t, WitnessFailed, pub.Witnesses[0].Action)
	assert.Equal(t, WitnessWithheld, pub.Witnesses[1].Action)
	assert.NotContains(t, kw.tags(kw.witnesses()[1]), "checkpoint-2")
}

// A witness that holds junk and no checkpoint at all, fewer tags than the
// bound, is one never published to: it takes the checkpoint.
func TestWitnessJunkAloneIsNoCheckpoint(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	kw.promoteN(e, "1.0")
	repo := kw.witnesses()[0]
	junk := junkTags(t, e, repo, 5, 3)
	pub, err := e.PublishCheckpoint(ctxTimeout(t))
	require.NoError(t, err)
	assert.Equal(t, WitnessResult{Repository: repo, Action: WitnessPublished, Ignored: []string{junk[2], junk[1], junk[0]}}, pub.Witnesses[0])
}

// Each checkpoint tag that holds no checkpoint is read back as a Kept
// named by its repository and tag alone, with what it holds and why that
// is no checkpoint said once, in Problem; the audit reports that as it
// is, with no note to open (no "malformed note") and no size it does not
// know (no "0 leaves").
func TestWitnessJunkTagsSayWhatTheyHold(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	ctx := ctxTimeout(t)
	kw.promoteN(e, "1.0")
	_, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	repo := kw.test(WitnessApp)
	p, err := e.publishing(ctx)
	require.NoError(t, err)

	const notArtifact = " (a checkpoint is an artifact of type application/vnd.promote.ledger.checkpoint.v1)"
	regtest.Push(t, repo+":checkpoint-7", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	pushNote(t, e, repo, "checkpoint-8", p.note, "application/vnd.example.other")
	pushNote(t, e, repo, "checkpoint-9", p.note, CheckpointArtifactType)
	pushNote(t, e, repo, "checkpoint-10", []byte(strings.Repeat("x", MaxCheckpointNote+1)), CheckpointArtifactType)
	regtest.Push(t, repo+":checkpoint-11", regtest.Index(t, regtest.Labels("1.0"), "1000"))
	pushNote(t, e, repo, "checkpoint-12", []byte("hello\n"), CheckpointArtifactType)
	pushNote(t, e, repo, "checkpoint-x", p.note, CheckpointArtifactType)
	regtest.Push(t, repo+":checkpoint-y", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	other, _, err := merkle.KeyPair(keyOrigin, rand.Reader)
	require.NoError(t, err)
	forged, err := merkle.Sign(merkle.Checkpoint{Origin: keyOrigin, Size: 13, Root: p.cp.Root}, other)
	require.NoError(t, err)
	pushNote(t, e, repo, "checkpoint-13", forged, CheckpointArtifactType)
	want := map[string]string{
		"checkpoint-7":  "it holds a container image" + notArtifact,
		"checkpoint-8":  "it holds an artifact of type application/vnd.example.other" + notArtifact,
		"checkpoint-9":  "it holds a checkpoint of 1 leaf, not of 9 as its tag says",
		"checkpoint-10": "it holds a note of 65537 bytes, more than the 65536 a checkpoint may be (not read)",
		"checkpoint-11": "it holds an image index" + notArtifact,
		"checkpoint-12": "it holds a note that is not a checkpoint: it is not a signed note",
		"checkpoint-x":  "it holds a checkpoint artifact, but its tag names no tree size (ledger publish tags a checkpoint of N leaves checkpoint-N)",
		"checkpoint-y":  "it holds a container image" + notArtifact,
	}

	kept, err := e.Witnessed(ctx, []string{repo})
	require.NoError(t, err)
	got := map[string]string{}
	for _, k := range kept {
		tag, ok := strings.CutPrefix(k.Source, repo+":")
		require.True(t, ok, k.Source)
		if k.Problem != "" {
			assert.Nil(t, k.Note, k.Source)
			got[tag] = k.Problem
		}
	}
	assert.Equal(t, want, got, "the source is the tag; the problem says what it holds")

	rep := audit(t, e, kept...)
	require.False(t, rep.OK())
	results := map[string]ledger.KeptResult{}
	for _, k := range rep.Log.Kept {
		results[k.Source] = k
	}
	for tag, problem := range want {
		src := repo + ":" + tag
		assert.Equal(t, ledger.KeptResult{Source: src, Problem: "not a checkpoint: " + problem}, results[src])
		msg := ""
		for _, p := range rep.Problems {
			if strings.Contains(p.Msg, src+" ") {
				msg = p.Msg
			}
		}
		assert.Equal(t, src+" is not a checkpoint: "+problem, msg)
	}
	forgedSrc := repo + ":checkpoint-13"
	assert.Equal(t, ledger.KeptResult{Source: forgedSrc, Problem: "it is not a checkpoint signed by the ledger's key: " +
		"merkle: checkpoint signature: note has no verifiable signatures"}, results[forgedSrc], "a forged note is opened, and fails")
	assert.Contains(t, rep.Problems[len(rep.Problems)-1].Msg, "the checkpoint kept in "+forgedSrc+": it is not a checkpoint signed",
		"no size it cannot tell")
	for _, p := range rep.Problems {
		assert.NotContains(t, p.Msg, "malformed note")
		assert.NotContains(t, p.Msg, "0 leaves")
	}
}
