package promote

import (
	"context"
	"fmt"
)

// write is the part of a promotion that changes anything, under the ledger
// lock of the app in the environment: recheck (a freeze or revocation
// recorded since the policy phases), replan (tags may have moved since
// the plan), copy, tag, verify, record. If the lock is lost (an S3 lease
// taken over or expired), the work stops: the context is cancelled, and
// the lock is checked again before the tags and the record. The lock is
// released by Promote, after a refusal met here is recorded.
func (r *run) write(ctx context.Context) error {
	held, err := r.rec.lock(ctx)
	if err != nil {
		return err
	}
	ctx, stop := held.Watch(ctx)
	defer stop()
	err = r.through(ctx, r.recheck, r.replan, r.copy, r.tag, r.verify, r.record)
	return leaseLost(ctx, fmt.Sprintf("promoting %s to %s", r.res.App, r.env.Name), err)
}
