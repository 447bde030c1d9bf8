package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/promote/policy"
)

// window is the release-policy phase of the promotion windows: outside the
// environment's windows, or on a denied date, the promotion is refused
// (exit 3, recorded) before anything is judged or copied, saying when the
// windows open next. It reads the engine's clock. Rollbacks are not held
// to windows: they are how incidents end. Where the environment allows
// it, --break-glass passes a closed window (freeze.go).
func (r *run) window(ctx context.Context) error {
	if len(r.env.Windows) == 0 {
		return nil
	}
	v := policy.Evaluate(r.env.Windows, r.e.now())
	if v.Open {
		r.policyPass(PolicyWindow, v.Reason, nil)
		return nil
	}
	reason := fmt.Sprintf("%s: %s", r.env.Name, v.Reason)
	if !v.Next.IsZero() {
		reason += "; the next window opens " + v.Next.UTC().Format(time.RFC3339)
	}
	if glass, err := r.breakGlass(PolicyWindow, reason, nil); glass || err != nil {
		return err
	}
	return r.holdBack(ctx, func() error { return r.policyRefuse(PolicyWindow, reason+r.glassHint(), nil) })
}
