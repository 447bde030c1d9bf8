package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
)

// CheckTarget says whether app may be promoted into env as far as env's
// ECR repository goes: an error wrapping errs.ErrNotFound when it does not
// exist, one wrapping errs.ErrConflict when env is immutable and the
// repository lets tags move (MUTABLE or MUTABLE_WITH_EXCLUSION); nil for
// an environment not in ECR. It makes one DescribeRepositories call and
// writes nothing; a promotion is meant to call it before copying.
func (e *Engine) CheckTarget(ctx context.Context, env *config.Environment, app string) error {
	reg, ok := e.ecrRegistry(env.Name)
	if !ok {
		return nil
	}
	repo, err := env.RepositoryFor(app)
	if err != nil {
		return err
	}
	_, path, _ := strings.Cut(repo, "/")
	info, err := reg.Client.DescribeRepository(ctx, reg.RegistryID, path)
	switch {
	case err != nil:
		return fmt.Errorf("checking %s in %s: %w", repo, env.Name, err)
	case info == nil:
		return fmt.Errorf("%w: ECR repository %s (registry %s) of environment %s does not exist; promote envs apply %s creates it",
			errs.ErrNotFound, path, reg.RegistryID, env.Name, app)
	case env.Immutable() && !info.ImmutableTags():
		return errs.Conflictf("environment %s is immutable but its ECR repository %s is %s, so its tags could be moved; "+
			"run promote envs apply --fix-mutability %s, or set it IMMUTABLE", env.Name, path, info.TagMutability, app)
	}
	return nil
}

func (e *Engine) ecrRegistry(env string) (ecr.Registry, bool) {
	if e.ecr == nil {
		return ecr.Registry{}, false
	}
	reg, ok := e.ecr.byEnv[env]
	return reg, ok
}
