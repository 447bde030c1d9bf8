package envrepos

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

// envs check warns when the repository's lifecycle policy would expire a
// digest the ledger still lists as a rollback target, and errs when it
// would expire what the environment runs now.
func TestEnvsCheckLifecyclePolicyAgainstRollbackTargets(t *testing.T) {
	srv, adm, led := newWorld(t)
	ctx := context.Background()
	reg := srv.Default()
	srv.Registry(prodAccount).GrantAccount(ecremu.DefaultAccount) // the prod environment's registry
	require.NoError(t, reg.CreateRepository("test/web", ecremu.RepositoryConfig{Mutability: "IMMUTABLE_WITH_EXCLUSION",
		Filters: []ecremu.ExclusionFilter{{FilterType: "WILDCARD", Filter: "sha256-*"}}, ScanOnPush: true}))
	var digests []string
	for _, v := range []string{"1.0", "2.0", "3.0"} {
		img := regtest.Image(t, 1, regtest.Labels(v), "1000")
		ref, err := name.ParseReference(srv.RegistryHost(ecremu.DefaultAccount) + "/test/web:" + v)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img, remote.WithAuthFromKeychain(ecr.NewKeychain(adm.Registries["test"]))))
		d, err := img.Digest()
		require.NoError(t, err)
		digests = append(digests, d.String())
		head, err := led.Head(ctx, "web", "test")
		require.NoError(t, err)
		require.NoError(t, led.Append(ctx, &ledger.Record{Kind: ledger.KindPromotion, App: "web", Env: "test", Digest: d.String(),
			Repository: "test/web", Time: time.Now().UTC()}, head))
		srv.Advance(time.Hour) // distinct push times
	}
	check := func() []Finding {
		rep, err := adm.Check(ctx, []string{"web"})
		require.NoError(t, err)
		for _, r := range rep.Repositories {
			if r.Env == "test" {
				return r.Findings
			}
		}
		t.Fatal("no test repository in the report")
		return nil
	}
	assert.Empty(t, check(), "no lifecycle policy, nothing expires")

	require.NoError(t, reg.SetLifecyclePolicy("test/web", `{"rules":[{"rulePriority":1,"description":"keep 2","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`, time.Now()))
	fs := check()
	require.Len(t, fs, 1)
	assert.Equal(t, SeverityWarning, fs[0].Severity)
	assert.Contains(t, fs[0].Message, "lifecycle rule 1 (keep 2) would expire "+digests[0]+", a rollback target")

	require.NoError(t, reg.SetLifecyclePolicy("test/web", `{"rules":[{"rulePriority":1,"description":"keep none","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0},"action":{"type":"expire"}}]}`, time.Now()))
	fs = check()
	require.Len(t, fs, 3)
	assert.Equal(t, SeverityError, fs[0].Severity)
	assert.Contains(t, fs[0].Message, digests[2]+", which test runs now")
}
