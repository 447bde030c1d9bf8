package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/errs"
)

// Referrers lists the manifests whose subject is d in repo, through the OCI
// 1.1 referrers API or, where the registry lacks it, the sha256-<hex> tag
// schema. A registry that has neither returns an empty list.
//
// Which of the two a registry speaks is learnt from its first answer and
// remembered for its host (referrerModes); until then both are asked at
// once, so a registry without the API does not cost a round trip more for
// the tag after the API's 404 (the OCI spec: a registry with the API never
// answers its requests 404).
func (c *Client) Referrers(ctx context.Context, repo name.Repository, d v1.Hash) (_ []v1.Descriptor, err error) {
	defer done(&err, repo)
	host := repo.RegistryStr()
	var descs []v1.Descriptor
	switch c.referrers.mode(host) {
	case referrersByTag:
		descs, err = c.referrersTag(ctx, repo, d)
	case referrersByAPI:
		var ok bool
		if descs, ok, err = c.referrersAPI(ctx, repo, d); err == nil && !ok {
			c.referrers.set(host, referrersByTag) // no longer: fall back
			descs, err = c.referrersTag(ctx, repo, d)
		}
	default:
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type answer struct {
			descs []v1.Descriptor
			err   error
		}
		byTag := make(chan answer, 1)
		go func() {
			ds, err := c.referrersTag(tctx, repo, d)
			byTag <- answer{ds, err}
		}()
		var ok bool
		descs, ok, err = c.referrersAPI(ctx, repo, d)
		switch {
		case err != nil:
		case ok:
			c.referrers.set(host, referrersByAPI)
		default:
			c.referrers.set(host, referrersByTag)
			a := <-byTag
			descs, err = a.descs, a.err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing referrers of %s in %s: %w", d, repo, err)
	}
	if len(descs) > maxReferrers {
		return nil, tooManyReferrers(referrersWhat(repo, d), len(descs), false)
	}
	return descs, nil
}

// How a registry lists referrers, once known.
const (
	referrersUnknown = iota
	referrersByAPI
	referrersByTag
)

// referrerModes remembers, per registry host, how it lists referrers.
type referrerModes struct {
	mu sync.Mutex
	m  map[string]int
}

func (r *referrerModes) mode(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[host]
}

func (r *referrerModes) set(host string, mode int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]int{}
	}
	r.m[host] = mode
}

// referrersAPI asks the referrers API (every page: pageReferrers); ok is
// false when the registry does not have it (404, 400 or 406, or an answer
// that is not an OCI index).
func (c *Client) referrersAPI(ctx context.Context, repo name.Repository, d v1.Hash) (_ []v1.Descriptor, ok bool, _ error) {
	rt, err := c.pullTransport(ctx, repo)
	if err != nil {
		return nil, false, err
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/referrers/" + d.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound, http.StatusBadRequest, http.StatusNotAcceptable); err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != string(types.OCIImageIndex) {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, true, err
	}
	if len(b) > maxManifestBytes {
		return nil, true, refuse("the referrers of %s in %s run past %d bytes: refused, not read on", d, repo, maxManifestBytes)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, true, fmt.Errorf("reading referrers of %s in %s: %w", d, repo, err)
	}
	return im.Manifests, true, nil
}

// referrersTag reads the referrers tag schema's index of d (sha256-<hex>);
// none is no referrers.
func (c *Client) referrersTag(ctx context.Context, repo name.Repository, d v1.Hash) ([]v1.Descriptor, error) {
	m, err := c.Get(ctx, repo.Tag(AttachmentTag(d, "")))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, fmt.Errorf("reading referrers of %s in %s: %w", d, repo, err)
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
