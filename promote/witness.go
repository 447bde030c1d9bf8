package promote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger/merkle"
	"github.com/promote-dev/promote/promote/registry"
)

// Witnesses: whoever can write the ledger's store (the SQLite file, the S3
// prefix) must not also hold every copy of its checkpoints. `promote ledger
// publish` copies the newest signed checkpoint into registries, as an
// immutable checkpoint-<size> tag per checkpoint (witness_artifact.go), and
// Witnessed reads them back for `promote ledger verify`: the log must
// extend every one.

// Published is what PublishCheckpoint did.
type Published struct {
	Origin    string          `json:"origin"`
	TreeSize  int64           `json:"treeSize"`
	Tag       string          `json:"tag"`    // checkpoint-<treeSize>
	Digest    string          `json:"digest"` // of the artifact's manifest, the same in every repository
	Witnesses []WitnessResult `json:"witnesses"`
}

// WitnessResult is what publishing did in one witness repository.
type WitnessResult struct {
	Repository string `json:"repository"`
	Action     string `json:"action"` // WitnessPublished, WitnessUnchanged, WitnessWithheld or WitnessFailed
	// Extends is the size of the newest checkpoint the repository held
	// that the published one was proven to extend (0: it held none).
	Extends int64 `json:"extends,omitempty"`
	// Ignored are checkpoint tags there that hold no checkpoint signed by
	// the ledger's key: ledger verify --witness reports them.
	Ignored []string `json:"ignored,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Actions of a WitnessResult.
const (
	WitnessPublished = "published" // the tag was written
	WitnessUnchanged = "unchanged" // the repository held this checkpoint already
	WitnessWithheld  = "withheld"  // not written: a witness showed the ledger's history differs from what it witnessed
	WitnessFailed    = "failed"    // see Error
)

// PublishCheckpoint pushes the ledger's newest signed checkpoint, its
// signature checked with the ledger's verifier key, to every witness
// repository (WitnessRepositories) as tag checkpoint-<size>, through the
// engine's registry client. Every witness is surveyed first (surveyWitness): one
// that holds this checkpoint is left unchanged; one whose checkpoints the
// ledger does not extend, or that holds another artifact under the tag, is
// a conflict, and then nothing is published anywhere. A witness that
// fails does not stop the others; the error is the worst failure, with
// the result beside it.
func (e *Engine) PublishCheckpoint(ctx context.Context) (*Published, error) {
	ws, err := e.witnessRepos(nil)
	if err != nil {
		return nil, err
	}
	p, err := e.publishing(ctx)
	if err != nil {
		return nil, err
	}
	pub := &Published{Origin: p.cp.Origin, TreeSize: p.cp.Size, Tag: checkpointTag(p.cp.Size), Digest: p.artifact.Digest.String(),
		Witnesses: make([]WitnessResult, len(ws))}
	plans := make([]witnessPlan, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { plans[i] = e.surveyWitness(ctx, w, p) })
	}
	wg.Wait()
	forked := false
	for _, plan := range plans {
		forked = forked || errors.Is(plan.err, errs.ErrConflict)
	}
	var worst error
	failed := 0
	for i, w := range ws {
		plan, res := plans[i], &pub.Witnesses[i]
		*res = WitnessResult{Repository: w.String(), Extends: plan.extends, Ignored: plan.ignored}
		err := plan.err
		switch {
		case err != nil:
		case forked:
			res.Action = WitnessWithheld
			continue
		case plan.have:
			res.Action = WitnessUnchanged
			continue
		default:
			res.Action, err = e.push(ctx, w, pub.Tag, p)
		}
		if err != nil {
			res.Action, res.Error = WitnessFailed, err.Error()
			failed++
			if worst == nil || errs.Worse(err, worst) {
				worst = err
			}
			continue
		}
		e.log.Info("checkpoint published", "witness", w.String(), "tag", pub.Tag, "action", res.Action)
	}
	if worst != nil {
		return pub, fmt.Errorf("%s was not published to %d of %d witness repositories: %w", pub.Tag, failed, len(ws), worst)
	}
	return pub, nil
}

// publishing reads the ledger's newest checkpoint and checks its signature
// with the ledger's verifier key, which publishing needs: a checkpoint is
// never published unchecked.
func (e *Engine) publishing(ctx context.Context) (*publishing, error) {
	vkey, err := verifierKey(e.cfg, e.keys)
	if err != nil {
		return nil, err
	}
	if vkey == "" {
		return nil, fmt.Errorf("%w: publishing the ledger's checkpoint needs its key, and %s names none: set ledger.key "+
			"(make one with promote ledger key --generate FILE) or PROMOTE_LEDGER_KEY; ledger.public is enough to publish "+
			"what a keyed writer signed", errs.ErrConfig, e.cfg.File)
	}
	c, err := e.reader().Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("nothing to publish: %w", err)
	}
	cp, err := merkle.Open([]byte(c.Note), vkey)
	if err != nil {
		return nil, fmt.Errorf("the ledger's newest checkpoint does not verify with the ledger key %s: %w", vkey, err)
	}
	m, err := checkpointArtifact([]byte(c.Note), cp.Origin, cp.Size)
	if err != nil {
		return nil, err
	}
	return &publishing{note: []byte(c.Note), cp: cp, artifact: m, vkey: vkey}, nil
}

// push writes p's artifact to w under tag: the empty config and the note,
// then the manifest under the tag. A write refused because another
// publisher wrote the same artifact meanwhile (an immutable repository
// refuses even the same digest) leaves the repository unchanged.
func (e *Engine) push(ctx context.Context, w witnessRepo, tag string, p *publishing) (string, error) {
	ref, err := e.reg.Tag(w.repo, tag)
	if err != nil {
		return "", err
	}
	for _, b := range []struct {
		mt   types.MediaType
		data []byte
	}{{types.OCIEmptyJSON, emptyJSON}, {CheckpointNoteType, p.note}} {
		got, err := e.wr.PutBlob(ctx, w.repo, b.mt, b.data)
		if err != nil {
			return "", e.missingWitness(w, err)
		}
		if want := sha256Hash(b.data); got.Digest != want {
			return "", fmt.Errorf("witness %s: a blob was uploaded as %s, not %s", w, got.Digest, want)
		}
	}
	if err := e.wr.Put(ctx, ref, p.artifact); err != nil {
		if d, herr := e.rd.Head(ctx, ref); herr == nil && d != nil && d.Digest == p.artifact.Digest {
			return WitnessUnchanged, nil
		}
		return "", e.missingWitness(w, err)
	}
	return WitnessPublished, nil
}

// missingWitness says how to create a witness repository the registry
// does not know.
func (e *Engine) missingWitness(w witnessRepo, err error) error {
	if !registry.IsNotFound(err) {
		return err
	}
	how := "create it with immutable tags"
	if w.env != nil {
		how = fmt.Sprintf("promote envs apply %s creates it (in ECR), or create it with immutable tags", WitnessApp)
	}
	return fmt.Errorf("witness repository %s does not exist: %s: %w", w, how, err)
}
