package promote

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/registry"
)

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
	if cur, err := e.reg.Head(ctx, tag); err == nil && cur != nil && cur.Digest == m.Digest {
		return nil
	}
	if err := e.reg.Put(ctx, tag, m); err != nil {
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
