package promote

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/promote/ledger"
)

// Witnessed reads back every checkpoint the witness repositories hold:
// those of repos, or when it is empty the configured or default ones
// (WitnessRepositories). Each checkpoint-N tag becomes one ledger.Kept,
// Source "REPO:checkpoint-N", Note the note its artifact holds, in the
// order of repos and then of N, for Reader.AuditLedger to check with the
// ledger's verifier key. A tag that holds no checkpoint artifact of N
// leaves (an image, another artifact, a note over MaxCheckpointNote
// bytes, a note of another size, a tag such as checkpoint-x) is not
// skipped: it is a Kept with no note and, in Problem, what the tag holds
// and why that is no checkpoint, which the audit reports as it is. A note
// that is there but forged is read as it is, and fails the signature
// check. A repository that does not exist holds no checkpoint.
// Registry failures are errors: a witness that was not read is never
// reported as one that holds nothing.
func (e *Engine) Witnessed(ctx context.Context, repos []string) ([]ledger.Kept, error) {
	ws, err := e.witnessRepos(repos)
	if err != nil {
		return nil, err
	}
	var out []ledger.Kept
	for _, w := range ws {
		kept, err := e.witnessedIn(ctx, w.repo)
		if err != nil {
			return nil, err
		}
		out = append(out, kept...)
	}
	return out, nil
}

// witnessedIn reads every checkpoint tag of repo, --jobs at a time.
func (e *Engine) witnessedIn(ctx context.Context, repo name.Repository) ([]ledger.Kept, error) {
	tags, err := e.checkpointTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	kept := make([]ledger.Kept, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, e.reg.Jobs()))
	for i, t := range tags {
		g.Go(func() error {
			w, err := e.readCheckpoint(gctx, repo, t.tag, t.size)
			if err != nil {
				return fmt.Errorf("reading the witness %s:%s: %w", repo.Name(), t.tag, err)
			}
			kept[i] = w.kept(repo, t.tag)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return kept, nil
}

// kept is w as a kept checkpoint for the audit, named REPO:TAG; one that
// is no checkpoint says what it holds in Problem.
func (w witnessedNote) kept(repo name.Repository, tag string) ledger.Kept {
	return ledger.Kept{Source: repo.Name() + ":" + tag, Note: w.note, Problem: w.problem}
}

// sizedTag is a checkpoint tag and the tree size it names (-1: none).
type sizedTag struct {
	tag  string
	size int64
}

// checkpointTags lists the checkpoint tags of repo by the size they name,
// those that name none first; a repository that does not exist has none.
func (e *Engine) checkpointTags(ctx context.Context, repo name.Repository) ([]sizedTag, error) {
	all, err := e.rd.Tags(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("listing the checkpoints of witness %s: %w", repo.Name(), err)
	}
	var out []sizedTag
	for _, t := range all {
		if n, ok := checkpointSize(t); ok {
			out = append(out, sizedTag{t, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].size != out[j].size {
			return out[i].size < out[j].size
		}
		return out[i].tag < out[j].tag
	})
	return out, nil
}
