package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/gates"
)

// soak is the release-policy phase of an environment's soak time: a digest
// enters only once it has been current in the from environment, as the
// ledger says, for that long. A rollback away from it there, or another
// promotion over it, ends its soak; a later promotion or rollback back to
// it starts it again. Refused before anything is judged or copied (exit 3,
// recorded), saying when it becomes eligible. A digest the environment
// already holds is not held back: that run has nothing to do.
func (r *run) soak(ctx context.Context) error {
	if r.env.Soak == 0 || r.env.From == "" {
		return nil
	}
	app := r.req.Ref.App
	rd := r.e.reader()
	if held, err := rd.currentUntil(ctx, app, r.env.Name, time.Time{}); err != nil {
		return err
	} else if held != nil && held.Digest == r.res.Digest {
		return nil
	}
	cur, err := rd.currentUntil(ctx, app, r.env.From, time.Time{})
	if err != nil {
		return err
	}
	soak := gates.Duration(r.env.Soak).String()
	if cur == nil || cur.Digest != r.res.Digest {
		runs := "nothing"
		if cur != nil {
			runs = cur.Digest
		}
		return r.policyRefuse(PolicySoak, fmt.Sprintf("%s: %s is not what %s runs now (%s): "+
			"a digest soaks %s while it stays current in %s", r.env.Name, r.res.Digest, r.env.From, runs, soak, r.env.From), nil)
	}
	since := cur.Time.UTC().Format(time.RFC3339)
	ev := map[string]any{"since": since, "record": cur.ID, "soak": soak}
	if eligible := cur.Time.Add(r.env.Soak); r.e.now().Before(eligible) {
		return r.policyRefuse(PolicySoak, fmt.Sprintf("%s: %s has been current in %s since %s "+
			"(record %s); with a soak of %s it becomes eligible at %s", r.env.Name, r.res.Digest, r.env.From,
			since, cur.ID, soak, eligible.UTC().Format(time.RFC3339)), ev)
	}
	r.policyPass(PolicySoak, fmt.Sprintf("current in %s since %s (record %s), past the soak of %s", r.env.From, since, cur.ID, soak), ev)
	return nil
}
