package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/registry"
)

// tag is the phase after copy: the environment's tags, then its pointer
// tag. Only the lock's holder may write them, so the lock is checked first.
func (r *run) tag(ctx context.Context) error {
	if err := r.rec.check(ctx, "stopped before writing the promotion's tags (none written, nothing recorded)"); err != nil {
		return err
	}
	if err := r.writeTags(ctx); err != nil {
		return err
	}
	if err := r.e.movePointer(ctx, r.env, r.dst, r.root.m); err != nil {
		return err
	}
	r.res.Pointer = r.pointer()
	return nil
}

// pointer is the environment's pointer tag as REPOSITORY:TAG, or "".
func (r *run) pointer() string {
	if r.env.PointerTag == "" {
		return ""
	}
	return r.dst.Name() + ":" + r.env.PointerTag
}

// writeTags writes the plan's missing tags. A registry may refuse a tag
// that appeared since the plan looked (ECR answers TAG_INVALID for any
// existing tag in an IMMUTABLE repository, even one naming the same
// digest), so a refused write is looked at again: the same digest is
// success with nothing written, another digest in an immutable environment
// is a conflict, refused.
func (r *run) writeTags(ctx context.Context) error {
	e, m := r.e, r.root.m
	var written []string
	for _, t := range r.res.Plan.Tags {
		if t.Action == ActPresent {
			continue
		}
		tag, err := e.reg.Tag(r.dst, t.Tag)
		if err != nil {
			return err
		}
		putErr := e.wr.Put(ctx, tag, m)
		if putErr == nil {
			written = append(written, t.Tag)
			if r.rootPending { // this PUT wrote the root manifest too
				r.rootPending = false
				r.res.Copy.ManifestsWritten++
			}
			continue
		}
		now, err := e.rd.Head(ctx, tag)
		switch {
		case err == nil && now != nil && now.Digest == m.Digest:
			e.log.Info("tag already names the digest", "tag", tag.String())
			continue
		case err == nil && now != nil && r.env.Immutable():
			return refuse(errs.Conflictf("%s is immutable and tag %s was written by someone else while this promotion ran: it names %s, not %s; %s",
				r.env.Name, tag, now.Digest, m.Digest, writtenNote(written)))
		}
		return fmt.Errorf("writing tag %s: %w", tag, putErr)
	}
	return nil
}

func writtenNote(written []string) string {
	if len(written) == 0 {
		return "this run wrote no tag"
	}
	return "this run had already written " + strings.Join(written, ", ")
}

// movePointer points env's pointer tag (if it has one) at m. It is the one
// tag that moves in an immutable environment: deploy systems that follow a
// tag read it, while the ledger stays the truth. The caller holds the lock.
func (e *Engine) movePointer(ctx context.Context, env *config.Environment, repo name.Repository, m *registry.Manifest) error {
	if env.PointerTag == "" {
		return nil
	}
	tag, err := e.reg.Tag(repo, env.PointerTag)
	if err != nil {
		return err
	}
	if cur, err := e.rd.Head(ctx, tag); err == nil && cur != nil && cur.Digest == m.Digest {
		return nil
	}
	if err := e.wr.Put(ctx, tag, m); err != nil {
		return fmt.Errorf("moving pointer tag %s to %s: %w (in an immutable ECR repository the tag must be excluded from immutability)", tag, m.Digest, err)
	}
	return nil
}

// withPointer adds env's pointer tag to the tags a promotion verifies.
func withPointer(tags []string, env *config.Environment) []string {
	if env.PointerTag == "" {
		return tags
	}
	return append(append([]string{}, tags...), env.PointerTag)
}
