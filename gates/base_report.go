package gates

import (
	"context"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BaseProof is the base an image was proven to be built on: the base's
// layers are the first layers of the image's.
type BaseProof struct {
	Ref     string // as named: repo:tag, or repo@digest
	Tag     string // repo:tag the image's annotations name, when they name a tag
	Digest  v1.Hash
	Created time.Time
}

// AnnotatedBase proves the base that img's OCI base annotations name (or,
// without them, those of index, the raw index manifest it belongs to, if
// any), as the base gate does but in any repository: the caller decides
// which it trusts (BaseApproves). problem says why there is no proof (no
// annotations, not a prefix); err is a registry failure.
func AnnotatedBase(ctx context.Context, src Source, img Image, index []byte) (BaseProof, string, error) {
	bname, ref, _, problem := annotatedRef(baseAnnotations(img, index))
	if problem != "" {
		return BaseProof{}, problem, nil
	}
	if img.Config == nil || len(img.Config.RootFS.DiffIDs) == 0 {
		return BaseProof{}, "has no layers to compare", nil
	}
	fetch := func(ctx context.Context, ref string, p *v1.Platform) (baseImage, error) {
		return fetchBase(ctx, src, ref, p)
	}
	b, problem, err := proveAnnotated(ctx, fetch, ref, img.Platform, img.Config.RootFS.DiffIDs)
	if err != nil || problem != "" {
		return BaseProof{}, problem, err
	}
	p := BaseProof{Ref: ref, Digest: b.Digest, Created: b.Created}
	if t, err := name.NewTag(bname); err == nil {
		p.Tag = t.Name()
	}
	return p, "", nil
}

// BaseApproves reports whether g is a base gate whose approved patterns
// take repo: a report follows an image's base annotations only into
// repositories some base gate approves, never into one an image names.
func BaseApproves(g Gate, repo string) bool {
	bg, ok := g.(baseGate)
	if !ok {
		if p, isPtr := g.(*baseGate); isPtr && p != nil {
			bg, ok = *p, true
		}
	}
	return ok && bg.approvedRepo(repo)
}

// AnnotatedBaseName is the base img's annotations name (or, without them,
// those of index), and whether they name one.
func AnnotatedBaseName(img Image, index []byte) (string, bool) {
	n := baseAnnotations(img, index)[AnnotationBaseName]
	return n, n != ""
}
