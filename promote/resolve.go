package promote

import (
	"context"
	"errors"

	"github.com/promote-dev/promote/promote/ledger"
)

// resolve is the first phase: the source digest, resolved once (source.go),
// and the path check. A digest that did not come the configured way is
// refused.
func (r *run) resolve(ctx context.Context) error {
	src, err := r.e.resolve(ctx, r.env, r.req.Ref)
	if src != nil && src.manifest != nil {
		r.res.Digest = src.manifest.Digest.String()
		r.res.Source = ledger.Source{Given: src.given, Resolved: src.repo.Digest(r.res.Digest).String()}
	}
	var pe *PathError
	if errors.As(err, &pe) {
		return refuse(err)
	}
	if err != nil {
		return err
	}
	r.src = src
	r.e.log.Info("resolved source", "given", src.given, "digest", r.res.Digest)
	return nil
}
