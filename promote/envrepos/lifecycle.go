package envrepos

import (
	"context"
	"fmt"
	"sort"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

// lifecycleFindings evaluates the repository's lifecycle policy against
// its images and reports the digests it would expire that the ledger still
// needs: what the environment runs now (an error) and the digests it held
// before, which rollback may return to (warnings).
func (a *Admin) lifecycleFindings(ctx context.Context, env *config.Environment, reg ecr.Registry, app, path string) ([]Finding, error) {
	policy, err := reg.Client.LifecyclePolicy(ctx, reg.RegistryID, path)
	if err != nil || policy == "" {
		return nil, err
	}
	images, err := reg.Client.Images(ctx, reg.RegistryID, path)
	if err != nil {
		return nil, err
	}
	expiring, err := ecr.Expiring(policy, images, a.now())
	if err != nil {
		return nil, err
	}
	if len(expiring) == 0 {
		return nil, nil
	}
	recs, err := a.Ledger.Records(ctx, ledger.Query{App: app, Env: env.Name, Kinds: []ledger.Kind{ledger.KindPromotion, ledger.KindRollback}})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	var out []Finding
	seen := map[string]bool{}
	for i, r := range recs { // newest first: recs[0] is what the environment runs
		x, ok := expiring[r.Digest]
		if !ok || seen[r.Digest] {
			continue
		}
		seen[r.Digest] = true
		rule := fmt.Sprintf("lifecycle rule %d", x.Priority)
		if x.Description != "" {
			rule += fmt.Sprintf(" (%s)", x.Description)
		}
		if i == 0 {
			out = append(out, Finding{SeverityError, fmt.Sprintf("%s would expire %s, which %s runs now", rule, r.Digest, env.Name)})
			continue
		}
		out = append(out, Finding{SeverityWarning, fmt.Sprintf("%s would expire %s, a rollback target (held since %s); exclude it or roll back will refuse it",
			rule, r.Digest, r.Time.UTC().Format("2006-01-02"))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity == SeverityError && out[j].Severity != SeverityError })
	return out, nil
}
