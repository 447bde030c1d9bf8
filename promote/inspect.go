package promote

import (
	"context"
	"errors"
)

// inspect is the second phase: the manifest tree with its referrers and
// configs, fetched once (subject.go), and the tags the promotion will
// write (tags.go). A tree that cannot be judged is refused.
func (r *run) inspect(ctx context.Context) error {
	root, subj, err := r.e.inspect(ctx, r.src)
	var te *TreeError
	if errors.As(err, &te) {
		return refuse(err)
	}
	if err != nil {
		return err
	}
	subj.Reports = r.req.Reports
	r.root, r.subj = root, subj
	r.tags, err = r.e.targetTags(r.env, r.src, subj, r.req.Tags)
	return err
}
