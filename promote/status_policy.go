package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/policy"
)

// policyStatus describes env's release policies as they stand now, for
// status: each freeze in force, and its windows (open or when they open),
// soak and break-glass.
func (r *Reader) policyStatus(ctx context.Context, env *config.Environment) (frozen, policies []string, err error) {
	fs, err := r.freezes(ctx, env.Name)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range fs {
		scope := ""
		if f.Env == ledger.AllEnvs {
			scope = "(freeze of every environment) "
		}
		frozen = append(frozen, scope+describeControl(f))
	}
	if len(env.Windows) > 0 {
		v := policy.Evaluate(env.Windows, r.now())
		switch {
		case v.Open:
			policies = append(policies, "window open: "+v.Reason)
		case !v.Next.IsZero():
			policies = append(policies, fmt.Sprintf("window closed: %s; opens %s", v.Reason, v.Next.UTC().Format(time.RFC3339)))
		default:
			policies = append(policies, "window closed: "+v.Reason)
		}
	}
	if env.Soak > 0 {
		policies = append(policies, fmt.Sprintf("soak %s in %s", gates.Duration(env.Soak), env.From))
	}
	if b := env.BreakGlass; b != nil {
		n := fmt.Sprintf("%d approvals", b.Approvals)
		if b.Approvals == 1 {
			n = "1 approval"
		}
		policies = append(policies, "break-glass allowed with "+n)
	}
	return frozen, policies, nil
}
