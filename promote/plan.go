package promote

import (
	"cmp"
	"context"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// Step actions.
const (
	ActCopy     = "copy"     // stream from source to target
	ActMount    = "mount"    // cross-repository mount on one registry
	ActPresent  = "present"  // the target already has it
	ActWrite    = "write"    // write a manifest or tag
	ActMove     = "move"     // a mutable tag moves from another digest
	ActConflict = "conflict" // an immutable tag names another digest
)

// BlobStep is one blob the target needs.
type BlobStep struct {
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType,omitempty"`
	Action    string          `json:"action"`
	// From is the repository a mount comes from, when not the source's.
	From string `json:"from,omitempty"`
}

// ManifestStep is one manifest, in write order.
type ManifestStep struct {
	Digest    v1.Hash         `json:"digest"`
	MediaType types.MediaType `json:"mediaType"`
	Role      string          `json:"role"` // subject | child | referrer
	Tag       string          `json:"tag,omitempty"`
	Action    string          `json:"action"`
	node      *node
}

// TagStep is one environment tag.
type TagStep struct {
	Tag     string `json:"tag"`
	Current string `json:"current,omitempty"` // digest the tag names in the target now
	Action  string `json:"action"`
}

// Plan is what a promotion will do to the target, as data. A dry run prints
// it; execution follows it in order.
type Plan struct {
	Source    string         `json:"source"`
	Target    string         `json:"target"`
	Digest    v1.Hash        `json:"digest"`
	Blobs     []BlobStep     `json:"blobs"`
	Manifests []ManifestStep `json:"manifests"`
	Tags      []TagStep      `json:"tags"`
}

// Bytes is the number of blob bytes the plan streams (mounts and present blobs excluded).
func (p *Plan) Bytes() int64 {
	var n int64
	for _, b := range p.Blobs {
		if b.Action == ActCopy {
			n += b.Size
		}
	}
	return n
}

// Conflicts returns the tag steps an immutable environment refuses.
func (p *Plan) Conflicts() []TagStep {
	var out []TagStep
	for _, t := range p.Tags {
		if t.Action == ActConflict {
			out = append(out, t)
		}
	}
	return out
}

// Complete reports whether the target already holds everything: nothing to copy or tag.
func (p *Plan) Complete() bool {
	for _, m := range p.Manifests {
		if m.Action != ActPresent {
			return false
		}
	}
	for _, t := range p.Tags {
		if t.Action != ActPresent {
			return false
		}
	}
	return true
}

// plan is the phase after inspect: what the target holds (survey.go) and
// what to do about it (decide.go). Where the target already holds the
// digest under every tag and the environment already runs it, the run is
// done with nothing to do, before any gate. The environment's current
// digest read here is a peek; replan reads it again under the lock.
func (r *run) plan(ctx context.Context) error {
	r.shown = true
	// The target repository's settings (ECR's API), the ledger and the
	// target registry are asked together; an error is reported in that
	// order (a missing ECR repository explains a failed survey).
	var cur *ledger.Record
	var checkErr, curErr, surveyErr error
	var wg sync.WaitGroup
	wg.Go(func() { checkErr = r.e.CheckTarget(ctx, r.env, r.res.App) })
	wg.Go(func() { cur, curErr = r.e.current(ctx, r.res.App, r.env.Name) })
	wg.Go(func() { r.st, surveyErr = r.early.finish(ctx, r.src.repo, r.root) })
	wg.Wait()
	if err := cmp.Or(checkErr, curErr, surveyErr); err != nil {
		return err
	}
	if cur != nil {
		r.res.Previous = cur.Digest
	}
	r.res.Plan = decide(r.src.repo, r.dst, r.root, r.st, wantTags{r.tags, r.env.Immutable()})
	if r.res.Plan.Complete() && cur != nil && cur.Digest == r.res.Digest {
		r.res.NothingToDo, r.done, r.current = true, true, cur
	}
	return r.heldBackRefusal()
}

// replan plans again under the lock: content only grows (it is addressed
// by digest), so the survey made before still holds for it, but tags may
// have been written and the environment moved since.
func (r *run) replan(ctx context.Context) error {
	var cur *ledger.Record
	var tags map[string]v1.Hash
	var curErr, tagsErr error
	var wg sync.WaitGroup // the ledger and the registry, asked together
	wg.Go(func() { cur, curErr = r.e.current(ctx, r.res.App, r.env.Name) })
	wg.Go(func() { tags, tagsErr = r.e.surveyTags(ctx, r.dst, r.tags) })
	wg.Wait()
	if err := cmp.Or(curErr, tagsErr); err != nil { // the ledger's first, as both were once read
		return err
	}
	r.res.Previous = ""
	if cur != nil {
		r.res.Previous = cur.Digest
	}
	r.st.tags = tags
	r.res.Plan = decide(r.src.repo, r.dst, r.root, r.st, wantTags{r.tags, r.env.Immutable()})
	return r.admit(ctx)
}

// admit refuses a plan that would move a tag of an immutable environment,
// and ends a dry run, which writes nothing.
func (r *run) admit(context.Context) error {
	if c := r.res.Plan.Conflicts(); len(c) > 0 {
		return refuse(conflictError(r.env, r.dst, c))
	}
	if r.done = r.req.DryRun; r.done {
		r.res.Pointer = r.pointer()
	}
	return nil
}

func conflictError(env *config.Environment, dst name.Repository, c []TagStep) error {
	t := c[0]
	return errs.Conflictf("%s is immutable and tag %s:%s already names %s; nothing was written. Promote under a new tag (--tag), or roll back to that digest",
		env.Name, dst.Name(), t.Tag, t.Current)
}
