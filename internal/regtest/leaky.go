package regtest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/promote-dev/promote/internal/faults"
)

// Secret marks every value a Leaky registry plants in the query strings of
// the URLs it hands out. No output of promote may contain it.
const Secret = "PLANTED-SECRET"

// PlantedParams are the names of the query parameters a Leaky registry
// plants: a pre-signed S3 URL's and an upload session's.
var PlantedParams = []string{"X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Credential", "_state"}

// planted is the query string a Leaky registry adds to each URL it hands
// out, its values naming where they were planted.
func planted(where string) string {
	v := url.Values{}
	for _, p := range PlantedParams {
		v.Set(p, Secret+"-"+where+"-"+strings.ToLower(strings.TrimPrefix(p, "X-Amz-")))
	}
	return v.Encode()
}

func isPlanted(r *http.Request) bool { return strings.Contains(r.URL.RawQuery, Secret) }

// Leak is a kind of request a Leaky registry sends to a secret-bearing URL.
type Leak string

// The kinds of request, each to a URL whose query string carries secrets.
const (
	LeakBlobGet      Leak = "blob GET"      // a blob read redirected to storage (pre-signed URL)
	LeakBlobHead     Leak = "blob HEAD"     // a blob existence check redirected to storage
	LeakUploadPost   Leak = "upload POST"   // an upload start redirected on the registry's host
	LeakUploadPatch  Leak = "upload PATCH"  // to the session's Location (its _state)
	LeakUploadPut    Leak = "upload PUT"    // to the session's Location, digest added
	LeakManifestGet  Leak = "manifest GET"  // a manifest read redirected on the registry's host
	LeakManifestHead Leak = "manifest HEAD" // a manifest check redirected on the registry's host
	LeakManifestPut  Leak = "manifest PUT"  // a manifest write redirected on the registry's host
	LeakToken        Leak = "token"         // the token realm the registry's challenge names
	LeakReferrers    Leak = "referrers"     // the next page a referrers answer links
	LeakTags         Leak = "tag list"      // the next page a tag list links
)

// Leaks lists every kind of request a Leaky registry plants secrets in.
var Leaks = []Leak{LeakBlobGet, LeakBlobHead, LeakUploadPost, LeakUploadPatch, LeakUploadPut,
	LeakManifestGet, LeakManifestHead, LeakManifestPut, LeakToken, LeakReferrers, LeakTags}

// Leaky is an in-process registry (referrers API on) that puts secrets in
// the query string of every URL it hands a client, as real registries and
// their storage do: blob reads are redirected to pre-signed storage URLs on
// another host, upload sessions carry their _state, the token realm, the
// referrers and tag list pages and redirects of manifests and uploads on
// the registry's own host all carry X-Amz-* parameters. Served honestly it
// works as a registry; Fail makes one kind of those requests fail.
type Leaky struct {
	Host    string // the registry, 127.0.0.1:port
	Storage string // where blob reads are redirected, another port
	reg     *Hooked
	storage *Hooked
	inj     *faults.Injector
	mu      sync.Mutex
	tokens  int
	chunked bool // refuse a blob sent in one PUT (405), so clients PATCH it
}

// NewLeaky starts a Leaky registry and its storage, closed when the test ends.
func NewLeaky(t testing.TB) *Leaky {
	l := &Leaky{reg: NewHooked(t), storage: NewHooked(t)}
	l.Host, l.Storage = l.reg.Host, l.storage.Host
	l.inj = faults.New(http.HandlerFunc(l.serve))
	answer := func(w http.ResponseWriter, r *http.Request) bool { l.inj.ServeHTTP(w, r); return true }
	l.reg.Set(answer)
	l.storage.Set(answer)
	return l
}

// Fail makes every request of kind leak that carries the planted secrets
// fail as f says; Fail("", faults.Fault{}) heals the registry. To fail the
// upload PATCH, the registry also refuses a blob sent in one PUT, as some
// registries do, so that the client falls back to the chunked upload.
func (l *Leaky) Fail(leak Leak, f faults.Fault) {
	l.mu.Lock()
	l.chunked = leak == LeakUploadPatch
	l.mu.Unlock()
	l.inj.Set(func(r *http.Request) faults.Fault {
		if leak != "" && isPlanted(r) && l.kind(r) == leak {
			return f
		}
		return faults.Fault{}
	})
}

// Injected is how many requests failed since the last Fail.
func (l *Leaky) Injected() int { return l.inj.Injected() }

// Requests returns "METHOD path Authorization" of the requests the registry
// (not its storage) was sent since it started.
func (l *Leaky) Requests() []string { return l.reg.Requests() }

// kind classifies a request to the registry or its storage.
func (l *Leaky) kind(r *http.Request) Leak {
	p := r.URL.Path
	switch {
	case r.Host == l.Storage && r.Method == http.MethodHead:
		return LeakBlobHead
	case r.Host == l.Storage:
		return LeakBlobGet
	case p == "/token":
		return LeakToken
	case strings.Contains(p, "/blobs/uploads/") && r.Method == http.MethodPost:
		return LeakUploadPost
	case strings.Contains(p, "/blobs/uploads/") && r.Method == http.MethodPatch:
		return LeakUploadPatch
	case strings.Contains(p, "/blobs/uploads/") && r.Method == http.MethodPut:
		return LeakUploadPut
	case strings.Contains(p, "/manifests/") && r.Method == http.MethodPut:
		return LeakManifestPut
	case strings.Contains(p, "/manifests/") && r.Method == http.MethodHead:
		return LeakManifestHead
	case strings.Contains(p, "/manifests/"):
		return LeakManifestGet
	case strings.Contains(p, "/referrers/"):
		return LeakReferrers
	case strings.HasSuffix(p, "/tags/list"):
		return LeakTags
	}
	return ""
}

// Leaked returns the lines of out that carry a planted secret, name a
// planted parameter, or show a URL with a query string other than the
// "?REDACTED" promote prints in its place.
func Leaked(out string) []string {
	var bad []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, Secret) || urlWithQuery(line) {
			bad = append(bad, line)
			continue
		}
		for _, p := range PlantedParams {
			if strings.Contains(line, p) {
				bad = append(bad, line)
				break
			}
		}
	}
	return bad
}

// urlWithQuery reports whether s holds scheme://... with a query string
// other than "REDACTED".
func urlWithQuery(s string) bool {
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			return false
		}
		s = s[i+3:]
		end := strings.IndexAny(s, " \t\"'<>`\\")
		if end < 0 {
			end = len(s)
		}
		if q := strings.IndexAny(s[:end], "?#"); q >= 0 {
			rest := strings.TrimRight(s[q+1:end], ":,;)")
			if s[q] == '#' || rest != "REDACTED" {
				return true
			}
		}
	}
}
