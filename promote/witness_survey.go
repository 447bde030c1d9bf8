package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
	"github.com/promote-dev/promote/promote/registry"
)

// maxSurveyReads bounds the checkpoint tags a survey reads, walking down
// from the largest tree size, in search of the newest checkpoint signed by
// the ledger's key. Tags that hold none are looked past: anyone who can
// push to a witness repository can write them, and stopping at a few
// would let them hide the checkpoint publishing must be checked against.
// A witness with more than this many such tags above its newest signed
// checkpoint fails closed. (A variable for tests: their registry lists no
// more than 1000 tags.)
var maxSurveyReads = 1000

// witnessPlan is what a survey found of one witness before publishing.
type witnessPlan struct {
	have    bool     // it holds this very checkpoint already
	extends int64    // the size of the newest checkpoint it held that this one extends (0: none)
	ignored []string // checkpoint tags that hold no checkpoint signed by the ledger's key
	err     error
}

// publishing is one checkpoint being published: the note, what it signs,
// its artifact and the key it was checked with.
type publishing struct {
	note     []byte
	cp       merkle.Checkpoint
	artifact *registry.Manifest
	vkey     string
}

// surveyWitness reads what witness w holds before p is published to it: an ECR
// repository must exist and keep its tags immutable (as for a promotion);
// the tag of p's size must be free or name p's artifact already; and the
// witnessed checkpoints must be ones the ledger's newest extends. Walking
// down from the largest tree size, the first checkpoint signed by the
// ledger's key decides: one of more leaves than p means the ledger was
// cut short; one of fewer must be consistent with p. Tags that hold no
// checkpoint signed by the key are looked past (listed as ignored), at
// most maxSurveyReads of them: a witness where that many hide what it
// witnessed fails closed, as a conflict. A tag that names another
// artifact at p's size, or a checkpoint p does not extend, is a conflict:
// the ledger's history differs from what was witnessed.
func (e *Engine) surveyWitness(ctx context.Context, w witnessRepo, p *publishing) witnessPlan {
	if w.env != nil {
		if _, ok := e.ecrRegistry(w.env.Name); ok {
			if err := e.CheckTarget(ctx, w.env, WitnessApp); err != nil {
				return witnessPlan{err: err}
			}
		}
	}
	tags, err := e.checkpointTags(ctx, w.repo)
	if err != nil {
		return witnessPlan{err: err}
	}
	var plan witnessPlan
	var below []sizedTag // the tags to read, largest size first
	for i := len(tags) - 1; i >= 0; i-- {
		t := tags[i]
		if t.size != p.cp.Size {
			below = append(below, t)
			continue
		}
		if plan.have, plan.err = e.holds(ctx, w, t.tag, p); plan.err != nil {
			return plan
		}
	}
	jobs := max(1, e.reg.Jobs())
	for start := 0; start < min(len(below), maxSurveyReads); start += jobs {
		batch := below[start:min(start+jobs, len(below), maxSurveyReads)]
		read := e.readCheckpoints(ctx, w, batch)
		for i, t := range batch {
			if read[i].err != nil {
				return witnessPlan{ignored: plan.ignored, err: read[i].err}
			}
			kept, err := merkle.Open(read[i].note, p.vkey)
			if read[i].problem != "" || err != nil {
				plan.ignored = append(plan.ignored, t.tag)
				continue
			}
			plan.err = e.extends(ctx, w, t.tag, kept, p.cp)
			plan.extends = kept.Size
			return plan
		}
	}
	if len(below) > maxSurveyReads {
		plan.err = errs.Conflictf("witness %s: the %d checkpoint tags read, walking down from the largest tree size, hold no "+
			"checkpoint signed by the ledger's key, and %d more were not read: the checkpoint it witnessed cannot be found to "+
			"check the ledger against; nothing was published: remove the tags that hold no checkpoint signed by the ledger's "+
			"key from %s (promote ledger verify --witness %s lists them)", w, maxSurveyReads, len(below)-maxSurveyReads, w, w)
	}
	return plan
}

// readResult is one tag's read in a survey.
type readResult struct {
	witnessedNote
	err error
}

// readCheckpoints reads the notes tags of w hold, all at once.
func (e *Engine) readCheckpoints(ctx context.Context, w witnessRepo, tags []sizedTag) []readResult {
	out := make([]readResult, len(tags))
	var wg sync.WaitGroup
	for i, t := range tags {
		wg.Go(func() {
			out[i].witnessedNote, out[i].err = e.readCheckpoint(ctx, w.repo, t.tag, t.size)
			if out[i].err != nil {
				out[i].err = fmt.Errorf("reading %s:%s: %w", w, t.tag, out[i].err)
			}
		})
	}
	wg.Wait()
	return out
}

// holds reports whether tag of w names p's artifact; another artifact
// there is a conflict.
func (e *Engine) holds(ctx context.Context, w witnessRepo, tag string, p *publishing) (bool, error) {
	ref, err := e.reg.Tag(w.repo, tag)
	if err != nil {
		return false, err
	}
	d, err := e.rd.Head(ctx, ref)
	switch {
	case err != nil:
		return false, err
	case d == nil:
		return false, nil
	case d.Digest != p.artifact.Digest:
		return false, errs.Conflictf("witness %s already holds %s as %s, not this ledger's checkpoint of %d leaves (%s): "+
			"another checkpoint of that size was published there, so the ledger's history differs from what was witnessed; "+
			"nothing was published: run promote ledger verify --witness", w, tag, d.Digest, p.cp.Size, p.artifact.Digest)
	}
	return true, nil
}

// extends checks that the ledger's newest checkpoint now extends kept,
// the checkpoint witnessed as tag of w: a consistency proof from the
// ledger's stored tree hashes, checked against both signed roots.
func (e *Engine) extends(ctx context.Context, w witnessRepo, tag string, kept, now merkle.Checkpoint) error {
	if kept.Size > now.Size {
		return errs.Conflictf("witness %s holds %s, a checkpoint of %d leaves signed by the ledger's key, but the ledger's newest "+
			"checkpoint has %d: the ledger was cut short (or %s keeps another ledger's checkpoints); nothing was published: "+
			"run promote ledger verify --witness", w, tag, kept.Size, now.Size, w)
	}
	proof, err := merkle.Consistency(kept.Size, now.Size, logHashes{ctx, e.led})
	if err != nil {
		return fmt.Errorf("proving that the ledger extends %s:%s: %w", w, tag, err)
	}
	if err := merkle.CheckConsistency(proof, kept, now); err != nil {
		return errs.Conflictf("the ledger's newest checkpoint (%d leaves) does not extend %s:%s (%d leaves): records among its first "+
			"%d were rewritten, reordered, inserted or deleted since it was published; nothing was published: "+
			"run promote ledger verify --witness", now.Size, w, tag, kept.Size, kept.Size)
	}
	return nil
}

// logHashes reads the ledger's stored tree hashes for the merkle
// functions, which take no context.
type logHashes struct {
	ctx context.Context
	log ledger.Log
}

func (r logHashes) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	return r.log.TreeHashes(r.ctx, indexes)
}
