package promote

import (
	"context"
	"errors"
)

// inspect is the second phase: the manifest tree with its referrers and
// configs, fetched once (subject.go), and the tags the promotion will
// write (tags.go). A tree that cannot be judged is refused.
//
// The target is surveyed from the moment the content is known (surveying):
// its manifests and blobs while the attachments are looked up, then the
// attachments and the tags; the plan waits for the answers.
func (r *run) inspect(ctx context.Context) error {
	root, subj, err := r.e.inspect(ctx, r.src, func(root *node) {
		r.early = r.e.startSurvey(ctx, r.dst)
		r.early.ask(root.content())
		_ = r.early.askTags(r.e.knownTags(r.env, r.src, r.req.Tags)) // an error is targetTags' to report
	})
	var te *TreeError
	if errors.As(err, &te) {
		return refuse(err)
	}
	if err != nil {
		return err
	}
	subj.Reports = r.req.Reports
	r.root, r.subj = root, subj
	if r.tags, err = r.e.targetTags(r.env, r.src, subj, r.req.Tags); err != nil {
		return err
	}
	r.early.ask(root.order())
	return r.early.askTags(r.tags)
}
