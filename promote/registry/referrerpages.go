package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pageReferrers follows a paginated answer of the referrers API (a Link
// header with rel="next", OCI distribution spec) and hands the client one
// index holding every page's descriptors: go-containerregistry reads the
// first page only, which would silently drop the signatures and SBOMs on
// later pages. It follows at most maxReferrerPages pages on the registry's
// own host, holding at most maxReferrers descriptors and maxManifestBytes
// in all; a list beyond any of these is refused, naming the limit.
func pageReferrers(next http.RoundTripper) http.RoundTripper { return referrerPager{next} }

type referrerPager struct{ next http.RoundTripper }

func (p referrerPager) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	first := origin(req)
	if !referrersPath.MatchString(first.URL.Path) {
		return resp, nil
	}
	what := describe(first)
	next, err := nextLink(resp, req.URL)
	if next == nil && err == nil {
		return resp, nil
	}
	fail := func(err error) (*http.Response, error) {
		resp.Body = errorBody{err}
		resp.ContentLength = -1
		resp.Header.Del("Link")
		resp.Header.Set("Content-Type", string(types.OCIImageIndex))
		return resp, nil
	}
	if err != nil {
		_ = resp.Body.Close()
		return fail(err)
	}
	var all []json.RawMessage
	budget := int64(maxManifestBytes)
	page, at := resp, req.URL
	for pages := 1; ; pages++ {
		descs, n, err := readReferrersPage(page, budget, what, pages)
		if page != resp {
			_ = page.Body.Close()
		}
		if err != nil {
			_ = resp.Body.Close()
			return fail(err)
		}
		budget -= n
		if all = append(all, descs...); len(all) > maxReferrers {
			_ = resp.Body.Close()
			return fail(tooManyReferrers(what, len(all), true))
		}
		if next == nil {
			break
		}
		if pages >= maxReferrerPages {
			_ = resp.Body.Close()
			return fail(refuse("%s: registry %s still links a next page after %d pages: refused, promote follows at most %d pages of referrers (%d descriptors so far)",
				what, at.Host, pages, maxReferrerPages, len(all)))
		}
		if canonicalHost(at.Scheme, at.Host) != canonicalHost(next.Scheme, next.Host) {
			_ = resp.Body.Close()
			return fail(refuse("%s: registry %s links its next page on another host, %s: refused", what, at.Host, next.Host))
		}
		nreq := req.Clone(req.Context())
		nreq.URL, nreq.Host = next, ""
		page, err = p.next.RoundTrip(nreq)
		if err != nil {
			_ = resp.Body.Close()
			return nil, err
		}
		if page.StatusCode != http.StatusOK {
			_ = page.Body.Close()
			_ = resp.Body.Close()
			return fail(fmt.Errorf("%s: page %d of the referrers list answered HTTP %d", what, pages+1, page.StatusCode))
		}
		at = next
		if next, err = nextLink(page, at); err != nil {
			_ = page.Body.Close()
			_ = resp.Body.Close()
			return fail(err)
		}
	}
	_ = resp.Body.Close()
	merged, err := json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
	}{2, types.OCIImageIndex, all})
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(merged))
	resp.ContentLength = int64(len(merged))
	resp.Header.Del("Link")
	resp.Header.Set("Content-Length", strconv.Itoa(len(merged)))
	resp.Header.Set("Content-Type", string(types.OCIImageIndex))
	return resp, nil
}

// readReferrersPage reads one page of at most budget bytes and returns its
// descriptors, unparsed so that they pass on exactly as the registry sent them.
func readReferrersPage(page *http.Response, budget int64, what string, n int) ([]json.RawMessage, int64, error) {
	b, err := io.ReadAll(io.LimitReader(page.Body, budget+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(b)) > budget {
		return nil, 0, refuse("%s: its pages add up to more than the 4 MiB (%d bytes) a referrers index may hold: refused at page %d",
			what, maxManifestBytes, n)
	}
	var idx struct {
		Manifests []json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, 0, fmt.Errorf("%s: page %d is not a JSON image index: %w", what, n, err)
	}
	return idx.Manifests, int64(len(b)), nil
}

// nextLink returns the rel="next" target of resp's Link header resolved
// against base, or nil when there is none.
func nextLink(resp *http.Response, base *url.URL) (*url.URL, error) {
	for _, v := range resp.Header.Values("Link") {
		for _, link := range strings.Split(v, ",") {
			link = strings.TrimSpace(link)
			end := strings.IndexByte(link, '>')
			if !strings.HasPrefix(link, "<") || end < 0 || !relNext(link[end+1:]) {
				continue
			}
			u, err := base.Parse(link[1:end])
			if err != nil { // the error would quote the link, query string and all
				return nil, fmt.Errorf("referrers: registry %s sent a Link header whose target is not a URL", base.Host)
			}
			return u, nil
		}
	}
	return nil, nil
}

func relNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			if strings.EqualFold(r, "next") {
				return true
			}
		}
	}
	return false
}

// tooManyReferrers refuses a referrers list of n descriptors (or more, when
// partial: the pages were not all read).
func tooManyReferrers(what string, n int, partial bool) error {
	count := strconv.Itoa(n)
	if partial {
		count = "more than " + strconv.Itoa(maxReferrers)
	}
	return refuse("%s lists %s referrers: refused, promote accepts at most %d referrers of one manifest", what, count, maxReferrers)
}

// referrersWhat names the referrers list of d in repo as describe does.
func referrersWhat(repo name.Repository, d v1.Hash) string {
	return "referrers index of " + repo.Name() + "@" + d.String()
}
