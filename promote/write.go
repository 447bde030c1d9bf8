package promote

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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
	r.openUploads(ctx)
	err = r.through(ctx, r.recheck, r.replan, r.copy, r.tag, r.verify, r.record)
	return leaseLost(ctx, fmt.Sprintf("promoting %s to %s", r.res.App, r.env.Name), err)
}

// openUploads opens the upload sessions of the blobs the plan streams from
// the source while recheck and replan read the ledger and the target: a
// session holds no content, so a run they stop has written nothing, and
// one they pass finds its sessions open (a round trip less per wave).
func (r *run) openUploads(ctx context.Context) {
	var descs []v1.Descriptor
	for _, b := range r.res.Plan.Blobs {
		if b.Action == ActCopy && b.From == "" {
			descs = append(descs, v1.Descriptor{Digest: b.Digest, Size: b.Size, MediaType: b.MediaType})
		}
	}
	if len(descs) > 0 && r.src.repo.RegistryStr() != r.dst.RegistryStr() {
		r.e.wr.OpenUploads(ctx, r.dst, descs)
	}
}
