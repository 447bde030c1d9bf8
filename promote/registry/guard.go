package registry

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
)

// Guard wraps a transport with promote's defences against a hostile or
// broken registry, each refusal a *PolicyError that no layer retries:
//
//   - redirects to another host are refused except for blob downloads, which
//     may go to storage elsewhere but never from https to http and never
//     with the registry's credentials (redirect.go);
//   - a manifest or referrers index larger than maxManifestBytes is refused
//     without reading more of it, and a manifest whose bytes do not hash to
//     its Docker-Content-Digest header is refused (limits.go);
//   - a paginated referrers list is followed for at most maxReferrerPages
//     pages and maxReferrers descriptors (referrerpages.go).
//
// Blob content is checked against its digest and its descriptor's size where
// it is read (blob.go, limits.go). Guard belongs outermost on the base
// transport, above the retry layer, so that it sees every request exactly as
// go-containerregistry's client sends it, every redirect hop included.
func Guard(next http.RoundTripper) http.RoundTripper {
	return guardRedirects(pageReferrers(limitManifests(next)))
}

// origin returns the request that started the redirect chain req belongs
// to: the one the client sent before the registry redirected it.
func origin(req *http.Request) *http.Request {
	r := req
	for i := 0; i < 64 && r.Response != nil && r.Response.Request != nil; i++ {
		r = r.Response.Request
	}
	return r
}

var (
	manifestPath  = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
	referrersPath = regexp.MustCompile(`^/v2/(.+)/referrers/([^/]+)$`)
	tagsPath      = regexp.MustCompile(`^/v2/(.+)/tags/list$`)
	blobPath      = regexp.MustCompile(`^/v2/(.+)/blobs/([a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$`)
)

// canonicalHost is host:port in lower case with the scheme's default port
// made explicit: two URLs are on one host when their canonical hosts are
// equal. A different port is another host (as for web origins), so
// 127.0.0.1:5000 and 127.0.0.1:5001 are two hosts, and so are localhost
// and 127.0.0.1.
func canonicalHost(scheme, host string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "443"
	if scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// refuse returns the *PolicyError promote answers a hostile registry with.
func refuse(format string, a ...any) error {
	return &PolicyError{Msg: fmt.Sprintf(format, a...)}
}

// describe names the manifest or referrers index a request reads, as a
// reference: host/name:tag, host/name@digest.
func describe(req *http.Request) string {
	host := req.URL.Host
	if m := manifestPath.FindStringSubmatch(req.URL.Path); m != nil {
		sep := ":"
		if strings.Contains(m[2], ":") {
			sep = "@"
		}
		return "manifest " + host + "/" + m[1] + sep + m[2]
	}
	if m := referrersPath.FindStringSubmatch(req.URL.Path); m != nil {
		return "referrers index of " + host + "/" + m[1] + "@" + m[2]
	}
	if m := blobPath.FindStringSubmatch(req.URL.Path); m != nil {
		return "blob " + host + "/" + m[1] + "@" + m[2]
	}
	if m := tagsPath.FindStringSubmatch(req.URL.Path); m != nil {
		return "tag list of " + host + "/" + m[1]
	}
	return host + req.URL.Path
}
