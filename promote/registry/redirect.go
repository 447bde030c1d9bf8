package registry

import "net/http"

// guardRedirects refuses the redirects a registry has no business sending.
// Go's http.Client follows redirects above the transport and hands each
// follow-up request down with req.Response set to the redirect that caused
// it, so the policy is applied here, hop by hop, against the request that
// started the chain:
//
//   - a redirect on the registry's own host (same scheme, host and port) is
//     followed, unless it downgrades https to http;
//   - a blob download (GET or HEAD /v2/<name>/blobs/<digest>) may go to
//     another host, as ECR sends blobs to S3 and Docker Hub to its CDN,
//     but never from https to http and never with the Authorization the
//     registry was sent (removed here should a layer above have copied it:
//     Go copies it to another port of the same host name). The content is
//     digest-checked where it is read;
//   - every other redirect to another host (manifests, tags, referrers,
//     uploads, a token endpoint sending the client elsewhere) is refused
//     with an error naming both hosts, before anything is sent there.
func guardRedirects(next http.RoundTripper) http.RoundTripper { return redirectGuard{next} }

type redirectGuard struct{ next http.RoundTripper }

func (g redirectGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Response == nil || req.Response.Request == nil {
		return g.next.RoundTrip(req)
	}
	prev, first := req.Response.Request, origin(req)
	what := first.Method + " " + first.URL.Path
	if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		closeRequestBody(req)
		return nil, refuse("registry %s redirected %s from https to %s: refused, a redirect must not downgrade to plain HTTP",
			first.URL.Host, what, RedactURL(req.URL))
	}
	if canonicalHost(first.URL.Scheme, first.URL.Host) == canonicalHost(req.URL.Scheme, req.URL.Host) {
		return g.next.RoundTrip(req)
	}
	if !isBlobRead(first) {
		closeRequestBody(req)
		return nil, refuse("registry %s redirected %s to another host, %s: refused, only blob downloads may leave the registry's host",
			first.URL.Host, what, req.URL.Host)
	}
	if a := req.Header.Get("Authorization"); a != "" && a == first.Header.Get("Authorization") {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	return g.next.RoundTrip(req)
}

func isBlobRead(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && blobPath.MatchString(r.URL.Path)
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
