package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
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
// Until a registry's answers say whether it has the API, both are asked at
// once, so a registry without it (distribution 2.8) does not cost a round
// trip more for the tag after the API's 404. Two answers are remembered
// for the host: one through the API (from then on the API alone is asked,
// and the tag only where it says no), and a 404 from outside the API, not
// a registry's error document (distribution's router: "404 page not
// found"; from then on the tag alone). Any other "no" (a registry's 404
// error, 400, 406, an answer that is not an OCI index) counts for its
// lookup only, so no odd answer can hide the API's referrers behind the
// tag's index (the OCI spec: a registry with the API never answers 404
// but for a repository that does not exist, NAME_UNKNOWN: no referrers).
func (c *Client) Referrers(ctx context.Context, repo name.Repository, d v1.Hash) (_ []v1.Descriptor, err error) {
	defer done(&err, repo)
	host := repo.RegistryStr()
	var descs []v1.Descriptor
	var answer apiAnswer
	switch c.referrers.mode(host) {
	case referrersNoAPI:
		descs, err = c.referrersTag(ctx, repo, d)
	case referrersAPI:
		if descs, answer, err = c.referrersAPI(ctx, repo, d); err == nil && (answer == apiLacking || answer == apiNoRoute) {
			descs, err = c.referrersTag(ctx, repo, d)
		}
	default:
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type tagAnswer struct {
			descs []v1.Descriptor
			err   error
		}
		byTag := make(chan tagAnswer, 1)
		go func() {
			ds, err := c.referrersTag(tctx, repo, d)
			byTag <- tagAnswer{ds, err}
		}()
		descs, answer, err = c.referrersAPI(ctx, repo, d)
		switch {
		case err != nil:
		case answer == apiListed:
			c.referrers.set(host, referrersAPI)
		case answer == apiLacking, answer == apiNoRoute:
			if answer == apiNoRoute {
				c.referrers.set(host, referrersNoAPI)
			}
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

// apiAnswer is what the referrers API said.
type apiAnswer int

const (
	apiListed  apiAnswer = iota // an OCI index of the referrers
	apiLacking                  // a registry's 404 error, 400, 406, or not an OCI index: no API, this time
	apiNoRoute                  // a 404 from outside the API (no registry error document): no API on the host
	apiNoRepo                   // 404 NAME_UNKNOWN: no such repository, so no referrers
)

// How a registry lists referrers, once its answers said so.
const (
	referrersUnknown = iota
	referrersAPI
	referrersNoAPI
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

// referrersAPI asks the referrers API (every page: pageReferrers).
func (c *Client) referrersAPI(ctx context.Context, repo name.Repository, d v1.Hash) ([]v1.Descriptor, apiAnswer, error) {
	rt, err := c.pullTransport(ctx, repo)
	if err != nil {
		return nil, apiLacking, err
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/referrers/" + d.String()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, apiLacking, err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, apiLacking, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound, http.StatusBadRequest, http.StatusNotAcceptable); err != nil {
		return nil, apiLacking, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, notFoundAnswer(resp), nil
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != string(types.OCIImageIndex) {
		return nil, apiLacking, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, apiListed, err
	}
	if len(b) > maxManifestBytes {
		return nil, apiListed, refuse("the referrers of %s in %s run past %d bytes: refused, not read on", d, repo, maxManifestBytes)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, apiListed, fmt.Errorf("reading referrers of %s in %s: %w", d, repo, err)
	}
	return im.Manifests, apiListed, nil
}

// notFoundAnswer tells a 404 of the referrers API apart: a registry's
// error document naming NAME_UNKNOWN (no such repository), another error
// document (a "no" for this lookup), or none at all (not the API's answer:
// the registry has no such route).
func notFoundAnswer(resp *http.Response) apiAnswer {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return apiLacking
	}
	var body struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &body) != nil || len(body.Errors) == 0 {
		return apiNoRoute
	}
	for _, e := range body.Errors {
		if e.Code == string(transport.NameUnknownErrorCode) {
			return apiNoRepo
		}
	}
	return apiLacking
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
