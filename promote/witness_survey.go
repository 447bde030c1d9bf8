package promote

import (
	"context"
	"fmt"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/ledger/merkle"
	"github.com/promote-dev/promote/promote/registry"
)

// maxIgnored bounds the checkpoint tags a survey reads that hold no
// checkpoint signed by the ledger's key before it gives up looking for
// one that does.
const maxIgnored = 8

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
// cut short; one of fewer must be consistent with p. A tag that names
// another artifact at p's size, or a checkpoint p does not extend, is a
// conflict: the ledger's history differs from what was witnessed.
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
	for i := len(tags) - 1; i >= 0; i-- {
		t := tags[i]
		if t.size == p.cp.Size {
			if plan.have, plan.err = e.holds(ctx, w, t.tag, p); plan.err != nil {
				return plan
			}
			continue
		}
		if len(plan.ignored) >= maxIgnored {
			break
		}
		wn, err := e.readCheckpoint(ctx, w.repo, t.tag, t.size)
		if err != nil {
			return witnessPlan{err: fmt.Errorf("reading %s:%s: %w", w, t.tag, err)}
		}
		kept, err := merkle.Open(wn.note, p.vkey)
		if wn.problem != "" || err != nil {
			plan.ignored = append(plan.ignored, t.tag)
			continue
		}
		plan.err = e.extends(ctx, w, t.tag, kept, p.cp)
		plan.extends = kept.Size
		break
	}
	return plan
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
