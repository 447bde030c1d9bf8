package gates

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
)

// baseEvidence is what the ledger keeps about one platform's base.
type baseEvidence struct {
	Platform string `json:"platform"`
	Via      string `json:"via"` // annotation | search
	Base     string `json:"base,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Layers   int    `json:"layers"` // the base's layers, all shared
	Of       int    `json:"of"`     // the image's layers
	Created  string `json:"created,omitempty"`
	Age      string `json:"age,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Evaluate passes when every platform is proven to be built on an approved
// base: the base's rootfs.diff_ids are a prefix of the platform's. Base
// annotations only say which base to compare; the layers are the proof.
func (g baseGate) Evaluate(ctx context.Context, s *Subject) (Verdict, error) {
	if s.Source == nil {
		return Verdict{}, fmt.Errorf("the base gate reads base images from registries and has no registry access here")
	}
	j := &baseJudge{g: g, s: s, cache: &baseCache{src: s.Source, got: map[string]baseImage{}, err: map[string]error{}}}
	var evs []baseEvidence
	var problems []string
	for _, img := range s.Images {
		ev, err := j.platform(ctx, img)
		if err != nil {
			return Verdict{}, err
		}
		evs = append(evs, ev)
		if ev.Problem != "" {
			problems = append(problems, ev.Platform+": "+ev.Problem)
		}
	}
	evidence := map[string]any{"platforms": evs, "approved": g.approved, "images": s.Judged()}
	if len(problems) > 0 {
		return Verdict{Name: "base", Verdict: verdict.Fail, Reason: strings.Join(problems, "; "), Evidence: evidence}, nil
	}
	e := evs[0]
	reason := fmt.Sprintf("built on approved base %s (%d of %d layers", e.Base, e.Layers, e.Of)
	if e.Age != "" {
		reason += ", " + e.Age + " old"
	}
	reason += fmt.Sprintf(", via %s) on %d platform(s)", e.Via, len(evs))
	return Verdict{Name: "base", Verdict: verdict.Pass, Reason: reason, Evidence: evidence}, nil
}

type baseJudge struct {
	g     baseGate
	s     *Subject
	cache *baseCache
	once  sync.Once
	refs  []string
	err   error
}

func (j *baseJudge) platform(ctx context.Context, img Image) (baseEvidence, error) {
	ev := baseEvidence{Platform: j.s.ImageName(img)}
	if img.Config == nil || len(img.Config.RootFS.DiffIDs) == 0 {
		ev.Problem = "has no layers to compare"
		return ev, nil
	}
	app := img.Config.RootFS.DiffIDs
	ev.Of = len(app)
	ann := baseAnnotations(img, j.s.Manifest)
	var b baseImage
	if ann[AnnotationBaseName] != "" || ann[AnnotationBaseDigest] != "" {
		ev.Via = "annotation"
		var problem string
		var err error
		b, problem, err = j.annotated(ctx, img, ann, app)
		if err != nil || problem != "" {
			ev.Problem = problem
			return ev, err
		}
	} else {
		ev.Via = "search"
		var problem string
		var err error
		b, problem, err = j.search(ctx, img, app)
		if err != nil || problem != "" {
			ev.Problem = problem
			return ev, err
		}
	}
	ev.Base, ev.Digest, ev.Layers = b.Ref, b.Digest.String(), len(b.DiffIDs)
	if !b.Created.IsZero() {
		ev.Created = b.Created.UTC().Format(time.RFC3339)
	}
	if j.g.maxAge > 0 {
		if b.Created.Before(epochLimit) {
			ev.Problem = fmt.Sprintf("base %s has no usable created time, so its age (max %s) cannot be checked", b.Ref, Duration(j.g.maxAge))
			return ev, nil
		}
		age := j.s.Now.Sub(b.Created)
		ev.Age = Age(age)
		if age > j.g.maxAge {
			ev.Problem = fmt.Sprintf("base %s is %s old (max %s): rebuild on a patched base", b.Ref, Age(age), Duration(j.g.maxAge))
		}
	}
	return ev, nil
}

// annotated checks the base the image names, in an approved repository;
// the annotation is never trusted alone (proveAnnotated).
func (j *baseJudge) annotated(ctx context.Context, img Image, ann map[string]string, app []v1.Hash) (baseImage, string, error) {
	bname, ref, repo, problem := annotatedRef(ann)
	if problem != "" {
		return baseImage{}, problem, nil
	}
	if !j.g.approvedRepo(repo) {
		return baseImage{}, fmt.Sprintf("base %s is not approved (approved: %s)", bname, strings.Join(j.g.approved, ", ")), nil
	}
	return proveAnnotated(ctx, j.cache.get, ref, img.Platform, app)
}

// baseAnnotations is the OCI base annotations of img, or, when it has
// none, those of index (the manifest it belongs to; nil: none).
func baseAnnotations(img Image, index []byte) map[string]string {
	ann := annotations(img.Manifest)
	if ann[AnnotationBaseName] == "" && ann[AnnotationBaseDigest] == "" && index != nil {
		ann = annotations(index)
	}
	return ann
}

// annotatedRef reads the base annotations name: the name as written, the
// reference to read (repo@digest when they give a digest), its
// repository; problem says why they name none that can be read.
func annotatedRef(ann map[string]string) (bname, ref, repo, problem string) {
	bname, bdig := ann[AnnotationBaseName], ann[AnnotationBaseDigest]
	switch {
	case bname == "" && bdig != "":
		return "", "", "", "names a base digest but no base name (" + AnnotationBaseName + "), so its repository is unknown"
	case bname == "":
		return "", "", "", "names no base (" + AnnotationBaseName + ")"
	}
	r, err := name.ParseReference(bname)
	if err != nil {
		return "", "", "", fmt.Sprintf("names base %q, which is not a valid reference", bname)
	}
	repo, ref = r.Context().Name(), bname
	if bdig != "" {
		ref = repo + "@" + bdig
	}
	return bname, ref, repo, ""
}

// proveAnnotated reads platform p of the base at ref (through get) and
// proves app's layers start with its layers: the proof of a base the
// annotations name.
func proveAnnotated(ctx context.Context, get func(context.Context, string, *v1.Platform) (baseImage, error),
	ref string, p *v1.Platform, app []v1.Hash) (baseImage, string, error) {
	b, err := get(ctx, ref, p)
	if errors.Is(err, errs.ErrNotFound) {
		return baseImage{}, fmt.Sprintf("the base it names, %s, is not in the registry", ref), nil
	}
	if err != nil {
		return baseImage{}, "", err
	}
	if !isPrefix(b.DiffIDs, app) {
		return baseImage{}, fmt.Sprintf("its %d layers do not start with the %d layers of the base it names (%s): squashed, or built on another base", len(app), len(b.DiffIDs), ref), nil
	}
	return b, "", nil
}

// search looks for the approved base among the approved repositories' tags.
func (j *baseJudge) search(ctx context.Context, img Image, app []v1.Hash) (baseImage, string, error) {
	if len(j.g.searchable()) == 0 {
		return baseImage{}, "names no base (" + AnnotationBaseName + ") and every approved pattern has a wildcard, so none can be searched: build with base annotations or approve exact repositories", nil
	}
	j.once.Do(func() { j.refs, j.err = j.g.candidates(ctx, j.s.Source) })
	if j.err != nil {
		return baseImage{}, "", j.err
	}
	cands, failed, firstErr := j.fetchAll(ctx, img)
	if b, ok := bestBase(app, cands); ok {
		return b, "", nil
	}
	if failed > 0 && firstErr != nil && !errors.Is(firstErr, errs.ErrNotFound) {
		return baseImage{}, "", fmt.Errorf("reading %d of %d candidate base images failed, so no base could be proven: %w", failed, len(j.refs), firstErr)
	}
	where := fmt.Sprintf("the %d approved base images searched (newest %d tags of %s)", len(cands), j.g.searchTags, strings.Join(j.g.searchable(), ", "))
	if len(app) == 1 {
		return baseImage{}, "its single layer starts none of " + where + ": squashed, or built FROM scratch", nil
	}
	return baseImage{}, fmt.Sprintf("its %d layers start with none of %s: built FROM scratch, squashed, or on an unapproved base", len(app), where), nil
}

// fetchAll reads every candidate for img's platform, four at a time.
func (j *baseJudge) fetchAll(ctx context.Context, img Image) ([]baseImage, int, error) {
	var mu sync.Mutex
	var out []baseImage
	var failed int
	var firstErr error
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, ref := range j.refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, err := j.cache.get(ctx, ref, img.Platform)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out = append(out, b)
		}()
	}
	wg.Wait()
	sort.Slice(out, func(a, b int) bool { return out[a].Ref < out[b].Ref }) // ties resolve the same way every run
	return out, failed, firstErr
}
