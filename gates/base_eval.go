package gates

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
)

// baseImage is one platform of a candidate base image.
type baseImage struct {
	Ref     string // as named (repo:tag or repo@digest)
	Digest  v1.Hash
	DiffIDs []v1.Hash
	Created time.Time
}

// isPrefix reports whether base's layers are the first layers of app.
func isPrefix(base, app []v1.Hash) bool {
	if len(base) == 0 || len(base) > len(app) {
		return false
	}
	for i := range base {
		if base[i] != app[i] {
			return false
		}
	}
	return true
}

// bestBase picks, among candidates whose layers prefix app's, the one with
// the most layers: the nearest tier (a platform image over its base image).
func bestBase(app []v1.Hash, cands []baseImage) (baseImage, bool) {
	var best baseImage
	found := false
	for _, c := range cands {
		if isPrefix(c.DiffIDs, app) && (!found || len(c.DiffIDs) > len(best.DiffIDs)) {
			best, found = c, true
		}
	}
	return best, found
}

// fetchBase reads the platform of ref that matches p: its layers and age.
func fetchBase(ctx context.Context, src Source, ref string, p *v1.Platform) (baseImage, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return baseImage{}, fmt.Errorf("base %q: %w", ref, err)
	}
	repo := r.Context().Name()
	m, err := src.Manifest(ctx, ref)
	if err != nil {
		return baseImage{}, err
	}
	if m.MediaType.IsIndex() {
		im, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
		if err != nil {
			return baseImage{}, fmt.Errorf("base %s: %w", ref, err)
		}
		child, ok := pickPlatform(im.Manifests, p)
		if !ok {
			return baseImage{}, fmt.Errorf("%w: base %s has no platform %s", errs.ErrNotFound, ref, platformString(p))
		}
		if m, err = src.Manifest(ctx, repo+"@"+child.String()); err != nil {
			return baseImage{}, err
		}
	}
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return baseImage{}, fmt.Errorf("base %s: %w", ref, err)
	}
	raw, err := src.Blob(ctx, repo, mf.Config, 8<<20)
	if err != nil {
		return baseImage{}, err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return baseImage{}, fmt.Errorf("base %s config: %w", ref, err)
	}
	return baseImage{Ref: ref, Digest: m.Digest, DiffIDs: cf.RootFS.DiffIDs, Created: cf.Created.Time}, nil
}

func pickPlatform(ds []v1.Descriptor, p *v1.Platform) (v1.Hash, bool) {
	for _, d := range ds {
		if d.Platform == nil {
			continue
		}
		if p == nil || (d.Platform.OS == p.OS && d.Platform.Architecture == p.Architecture &&
			(p.Variant == "" || d.Platform.Variant == p.Variant)) {
			return d.Digest, true
		}
	}
	return v1.Hash{}, false
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return "(unknown)"
	}
	return PlatformName(Image{Platform: p})
}

// annotations returns the annotations of a manifest or index.
func annotations(raw []byte) map[string]string {
	var m struct {
		Annotations map[string]string `json:"annotations"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Annotations
}

// candidates lists the newest-sorting tags (at most n) of each searchable
// approved repository, skipping attachment tags.
func (g baseGate) candidates(ctx context.Context, src Source) ([]string, error) {
	var refs []string
	for _, repo := range g.searchable() {
		tags, err := src.Tags(ctx, repo)
		if err != nil {
			return nil, fmt.Errorf("listing approved base repository %s: %w", repo, err)
		}
		var usable []string
		for _, t := range tags {
			if !strings.HasPrefix(t, "sha256-") {
				usable = append(usable, t)
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(usable)))
		if len(usable) > g.searchTags {
			usable = usable[:g.searchTags]
		}
		for _, t := range usable {
			refs = append(refs, repo+":"+t)
		}
	}
	return refs, nil
}

// baseCache fetches each (reference, platform) once per evaluation.
type baseCache struct {
	src Source
	mu  sync.Mutex
	got map[string]baseImage
	err map[string]error
}

func (c *baseCache) get(ctx context.Context, ref string, p *v1.Platform) (baseImage, error) {
	key := ref + " " + platformString(p)
	c.mu.Lock()
	if b, ok := c.got[key]; ok {
		c.mu.Unlock()
		return b, nil
	}
	if err, ok := c.err[key]; ok {
		c.mu.Unlock()
		return baseImage{}, err
	}
	c.mu.Unlock()
	b, err := fetchBase(ctx, c.src, ref, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err[key] = err
	} else {
		c.got[key] = b
	}
	return b, err
}

// BaseAt reads platform p (nil: the only one) of the base image ref as it
// is now: its manifest digest and creation time. A report compares them
// with the base a promotion was proven to be built on (a newer digest
// under the same tag is a stale base).
func BaseAt(ctx context.Context, src Source, ref string, p *v1.Platform) (v1.Hash, time.Time, error) {
	b, err := fetchBase(ctx, src, ref, p)
	if err != nil {
		return v1.Hash{}, time.Time{}, err
	}
	return b.Digest, b.Created, nil
}
