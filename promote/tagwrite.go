package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
)

// writeTags writes the plan's missing tags, the caller holding the lock. A
// registry may refuse a tag that appeared since the plan looked (ECR answers
// TAG_INVALID for any existing tag in an IMMUTABLE repository, even one
// naming the same digest), so a refused write is looked at again: the same
// digest is success with nothing written, another digest in an immutable
// environment is a conflict, recorded as a rejected attempt.
func (e *Engine) writeTags(ctx context.Context, req Request, res *Result, env *config.Environment, dst name.Repository, root *node, plan *Plan, tags []string) error {
	var written []string
	for _, t := range plan.Tags {
		if t.Action == ActPresent {
			continue
		}
		tag, err := e.reg.Tag(dst, t.Tag)
		if err != nil {
			return err
		}
		putErr := e.reg.Put(ctx, tag, root.m)
		if putErr == nil {
			written = append(written, t.Tag)
			continue
		}
		now, err := e.reg.Head(ctx, tag)
		switch {
		case err == nil && now != nil && now.Digest == root.m.Digest:
			e.log.Info("tag already names the digest", "tag", tag.String())
			continue
		case err == nil && now != nil && env.Immutable():
			cause := errs.Conflictf("%s is immutable and tag %s was written by someone else while this promotion ran: it names %s, not %s; %s",
				env.Name, tag, now.Digest, root.m.Digest, writtenNote(written))
			return e.appendLocked(ctx, e.rejection(req, res, tags, cause), cause)
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
