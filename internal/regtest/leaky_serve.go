package regtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// serve answers r honestly, planting secrets in every URL it hands out.
func (l *Leaky) serve(w http.ResponseWriter, r *http.Request) {
	if r.Host == l.Storage {
		l.serveStorage(w, r)
		return
	}
	p := r.URL.Path
	l.mu.Lock()
	chunked := l.chunked
	l.mu.Unlock()
	switch {
	case chunked && r.Method == http.MethodPut && strings.Contains(p, "/blobs/uploads/") && r.ContentLength != 0:
		http.Error(w, "monolithic uploads are not supported here", http.StatusMethodNotAllowed)
	case p == "/v2/" && r.Header.Get("Authorization") == "":
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token?%s",service="leaky"`, l.Host, planted("token")))
		w.WriteHeader(http.StatusUnauthorized)
	case p == "/token":
		l.mu.Lock()
		l.tokens++
		n := l.tokens
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"token":"leaky-%d","expires_in":300}`, n)
	case isPlanted(r):
		l.servePlanted(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(p, "/blobs/sha256:"):
		// Blob reads and existence checks go to pre-signed storage URLs.
		dest := "http://" + l.Storage + "/bucket/" + strings.TrimPrefix(p, "/v2/") + "?" + planted("blob")
		http.Redirect(w, r, dest, http.StatusTemporaryRedirect)
	case l.kind(r) == LeakUploadPost, l.kind(r) == LeakManifestGet, l.kind(r) == LeakManifestHead, l.kind(r) == LeakManifestPut:
		http.Redirect(w, r, withPlanted(r.URL, "redirect"), http.StatusTemporaryRedirect)
	case l.kind(r) == LeakReferrers, l.kind(r) == LeakTags:
		// The first page links a next one; the next page is empty.
		rec := l.reg.Honest(r)
		copyHeader(w, rec.Header())
		if rec.Code == http.StatusOK {
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, withPlanted(&url.URL{Path: p, RawQuery: "n=100&last=z"}, "page")))
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	default:
		l.reg.Serve(w, r)
	}
}

// servePlanted answers a request to a URL the registry handed out, without
// the planted parameters; upload sessions hand out planted Locations.
func (l *Leaky) servePlanted(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = unplanted(r.URL.Query()).Encode()
	r2.RequestURI = r2.URL.RequestURI()
	switch l.kind(r) {
	case LeakReferrers:
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
		return
	case LeakTags:
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"name":%q,"tags":[]}`, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list"))
		return
	}
	rec := l.reg.Honest(r2)
	copyHeader(w, rec.Header())
	if loc := rec.Header().Get("Location"); loc != "" && strings.Contains(r.URL.Path, "/blobs/uploads/") {
		if u, err := url.Parse(loc); err == nil {
			w.Header().Set("Location", withPlanted(u, "upload"))
		}
	}
	w.WriteHeader(rec.Code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// serveStorage answers blob reads at pre-signed URLs, and refuses the
// unsigned, as S3 does.
func (l *Leaky) serveStorage(w http.ResponseWriter, r *http.Request) {
	if !isPlanted(r) || !strings.HasPrefix(r.URL.Path, "/bucket/") {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawQuery = "/v2/"+strings.TrimPrefix(r.URL.Path, "/bucket/"), ""
	r2.RequestURI = r2.URL.RequestURI()
	l.reg.Serve(w, r2)
}

// withPlanted is u (path and query) with the planted parameters added.
func withPlanted(u *url.URL, where string) string {
	v := *u
	if v.RawQuery != "" {
		v.RawQuery += "&"
	}
	v.RawQuery += planted(where)
	return v.String()
}

func unplanted(q url.Values) url.Values {
	for _, p := range PlantedParams {
		q.Del(p)
	}
	return q
}

func copyHeader(w http.ResponseWriter, h http.Header) {
	for k, v := range h {
		w.Header()[k] = v
	}
}
