package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Referrers lists the manifests whose subject is d in repo, through the OCI
// 1.1 referrers API or, where the registry lacks it, the sha256-<hex> tag
// schema. A registry that has neither returns an empty list.
func (c *Client) Referrers(ctx context.Context, repo name.Repository, d v1.Hash) (_ []v1.Descriptor, err error) {
	defer done(&err, repo)
	idx, err := remote.Referrers(repo.Digest(d.String()), ctxOpts(ctx, c.opts)...)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing referrers of %s in %s: %w", d, repo, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading referrers of %s in %s: %w", d, repo, err)
	}
	if len(im.Manifests) > maxReferrers {
		return nil, tooManyReferrers(referrersWhat(repo, d), len(im.Manifests), false)
	}
	return im.Manifests, nil
}

// CosignSuffixes are the legacy cosign attachment tags: sha256-<hex>.<suffix>.
var CosignSuffixes = []string{"sig", "att", "sbom"}

// AttachmentTag returns the legacy cosign tag of d for suffix ("sig", "att",
// "sbom"), or the referrers fallback tag for an empty suffix.
func AttachmentTag(d v1.Hash, suffix string) string {
	t := d.Algorithm + "-" + d.Hex
	if suffix != "" {
		t += "." + suffix
	}
	return t
}

// IsAttachmentTag reports whether tag is a cosign or referrers-fallback tag,
// which belong to the digest they name rather than to an environment.
func IsAttachmentTag(tag string) bool {
	if !strings.HasPrefix(tag, "sha256-") {
		return false
	}
	rest := strings.TrimPrefix(tag, "sha256-")
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return len(rest) == 64
}

// Tags lists the tags of repo: every page, up to maxTagPages of them (each
// at most maxManifestBytes); a longer list is refused, not read on.
func (c *Client) Tags(ctx context.Context, repo name.Repository) (_ []string, err error) {
	defer done(&err, repo)
	l, err := c.puller.Lister(ctx, repo)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
	}
	var tags []string
	for page := 0; l.HasNext(); page++ {
		if page == maxTagPages {
			return nil, refuse("the tag list of %s runs past %d pages (%d tags read): refused, not read on", repo, maxTagPages, len(tags))
		}
		t, err := l.Next(ctx)
		if err != nil {
			if IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
		}
		tags = append(tags, t.Tags...)
	}
	return tags, nil
}
