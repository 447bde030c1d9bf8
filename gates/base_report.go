package gates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
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
// any): it reads that base's platform and checks that its layers are a
// prefix of img's. The annotations only say which base to compare; the
// layers are the proof. problem says why there is none (no annotations,
// not a prefix); err is a registry failure.
func AnnotatedBase(ctx context.Context, src Source, img Image, index []byte) (BaseProof, string, error) {
	ann := annotations(img.Manifest)
	if ann[AnnotationBaseName] == "" && ann[AnnotationBaseDigest] == "" && index != nil {
		ann = annotations(index)
	}
	bname, bdig := ann[AnnotationBaseName], ann[AnnotationBaseDigest]
	if bname == "" {
		return BaseProof{}, "names no base (" + AnnotationBaseName + ")", nil
	}
	r, err := name.ParseReference(bname)
	if err != nil {
		return BaseProof{}, fmt.Sprintf("names base %q, which is not a valid reference", bname), nil
	}
	p := BaseProof{Ref: bname}
	if t, ok := r.(name.Tag); ok {
		p.Tag = t.Name()
	}
	if bdig != "" {
		p.Ref = r.Context().Name() + "@" + bdig
	}
	if img.Config == nil || len(img.Config.RootFS.DiffIDs) == 0 {
		return BaseProof{}, "has no layers to compare", nil
	}
	b, err := fetchBase(ctx, src, p.Ref, img.Platform)
	if errors.Is(err, errs.ErrNotFound) {
		return BaseProof{}, fmt.Sprintf("the base it names, %s, is not in the registry", p.Ref), nil
	}
	if err != nil {
		return BaseProof{}, "", err
	}
	if !isPrefix(b.DiffIDs, img.Config.RootFS.DiffIDs) {
		return BaseProof{}, fmt.Sprintf("its layers do not start with those of the base it names (%s)", p.Ref), nil
	}
	p.Digest, p.Created = b.Digest, b.Created
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
	ann := annotations(img.Manifest)
	if ann[AnnotationBaseName] == "" && ann[AnnotationBaseDigest] == "" && index != nil {
		ann = annotations(index)
	}
	return ann[AnnotationBaseName], ann[AnnotationBaseName] != ""
}
