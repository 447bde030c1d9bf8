package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ReachKind says why a registry could not be reached.
type ReachKind string

// The ways a registry can be out of reach. DNS and TLS failures are never
// retried, a refused connection only briefly (attempts.go): none of them
// mends itself while promote waits.
const (
	ReachDNS     ReachKind = "dns"     // its host name does not resolve
	ReachTLS     ReachKind = "tls"     // its certificate failed verification, or the handshake was refused
	ReachRefused ReachKind = "refused" // nothing listens on its host and port
	ReachAuth    ReachKind = "auth"    // it answered 401 or 403: no credentials, or rejected ones
)

// ReachError is a registry promote could not reach or was not let into.
// Every Client method returns one (wrapping what failed) for the four
// kinds above. This package knows no configuration: the caller that does
// (package promote) fills Env, Pattern and AWS before showing it, with
// Placed, so that the message names the environment and its repository line.
type ReachError struct {
	Kind ReachKind
	// Host is the registry (host[:port]) the request was for, as the
	// repository names it; a token realm's or storage's failure is told as
	// the registry's.
	Host string
	// Repository is the repository the failed operation was on (host/path),
	// or "" when the failing host is none of the operation's registries.
	Repository string
	Status     int   // ReachAuth: 401 or 403
	Err        error // what failed, as returned before classification

	Env     string // the environment Repository belongs to
	Pattern string // that environment's `repository:` line
	AWS     bool   // its credentials come from the AWS default chain (ECR)
}

// Placed returns a copy of e told as Repository of environment env, whose
// configuration has `repository: pattern`; aws says its credentials come
// from the AWS default chain.
func (e *ReachError) Placed(env, pattern string, aws bool) *ReachError {
	c := *e
	c.Env, c.Pattern, c.AWS = env, pattern, aws
	return &c
}

func (e *ReachError) Unwrap() error { return e.Err }

// Error says what failed, for which host and environment, and what to do;
// the underlying error follows in parentheses. No URL in it has a query.
func (e *ReachError) Error() string {
	h := e.Host
	if e.Env != "" {
		h += " (" + e.Env + ")"
	}
	var b strings.Builder
	switch e.Kind {
	case ReachDNS:
		fmt.Fprintf(&b, "cannot resolve registry host %s: no such host; check the host name", h)
	case ReachRefused:
		fmt.Fprintf(&b, "cannot connect to registry %s: connection refused, nothing listens there; check the host and port, and that the registry is running", h)
	case ReachTLS:
		fmt.Fprintf(&b, "TLS verification failed for registry %s: %s; if its certificate is signed by a private CA, add that CA with SSL_CERT_FILE; a plain HTTP registry must be named with --insecure-registry %s",
			h, tlsCause(e.Err), e.Host)
	case ReachAuth:
		fmt.Fprintf(&b, "authentication failed for %s: the registry answered %d %s; %s. %s",
			h, e.Status, http.StatusText(e.Status), authCause(e.Status, e.Host), credentialSources(e.Host, e.AWS))
	default:
		fmt.Fprintf(&b, "cannot reach registry %s", h)
	}
	if e.Pattern != "" {
		fmt.Fprintf(&b, ". Environment %s is configured with `repository: %s`", e.Env, e.Pattern)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%s)", strings.ReplaceAll(e.Err.Error(), headNoBody, ""))
	}
	return RedactText(b.String())
}

// headNoBody is go-containerregistry's advice on a bodiless HEAD answer,
// which promote users cannot act on.
const headNoBody = " (HEAD responses have no body, use GET for details)"

// authCause says what a 401 or 403 means for promote's credentials.
func authCause(status int, host string) string {
	if status == http.StatusForbidden {
		return "the credentials promote used for " + host + " were rejected or lack access to this repository"
	}
	return "no credentials were found for " + host + ", or it rejected them"
}

// credentialSources says where promote takes the credentials of host from.
func credentialSources(host string, aws bool) string {
	s := "Credentials come from the docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json; `docker login " + host +
		"` writes it) and the credential helpers it names (credHelpers, credsStore)"
	if aws {
		s += "; for this ECR registry, from the AWS default credential chain (AWS_* variables, shared config and profile, SSO, web identity, instance or task role) and the environment's roleArn"
	}
	return s
}

// tlsCause is the verification failure in err, without the URL around it.
func tlsCause(err error) string {
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) {
		return ve.Err.Error()
	}
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return "the server refused the handshake: " + ae.Error()
	}
	return "certificate not trusted"
}

// reachKind classifies err, a failed request, or returns "" when it is
// none of the reach kinds.
func reachKind(err error) ReachKind {
	var te *transport.Error
	var de *net.DNSError
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ae tls.AlertError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden):
		return ReachAuth
	case errors.As(err, &ve), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci), errors.As(err, &ae):
		return ReachTLS
	case errors.As(err, &de):
		return ReachDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReachRefused
	}
	return ""
}

// failsAtOnce reports whether a failed request must not be tried again: a
// host that does not resolve (a DNS server's own failure may pass) or a
// certificate that does not verify.
func failsAtOnce(err error) bool {
	var de *net.DNSError
	if errors.As(err, &de) {
		return de.IsNotFound
	}
	return reachKind(err) == ReachTLS
}

// reach returns err as a *ReachError when it is one of the reach kinds,
// told as the one of repos (the operation's repositories) the failing
// request went to; otherwise err as it is.
func reach(err error, repos ...name.Repository) error {
	var re *ReachError
	if errors.As(err, &re) {
		return err
	}
	kind := reachKind(err)
	if kind == "" {
		return err
	}
	re = &ReachError{Kind: kind, Err: err}
	u := failedURL(err)
	if u != nil {
		re.Host = u.Host
	}
	if r, ok := whichRepo(u, repos); ok {
		re.Host, re.Repository = r.RegistryStr(), r.Name()
	}
	var te *transport.Error
	if kind == ReachAuth && errors.As(err, &te) {
		re.Status = te.StatusCode
	}
	return re
}

// failedURL is the URL of the request err failed on, or nil.
func failedURL(err error) *url.URL {
	var te *transport.Error
	if errors.As(err, &te) && te.Request != nil {
		return te.Request.URL
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return u
		}
	}
	var ee *ExhaustedError
	if errors.As(err, &ee) && ee.URL != "" {
		if u, perr := url.Parse(ee.URL); perr == nil {
			return u
		}
	}
	return nil
}

// whichRepo picks the repository of repos that u went to: the one whose
// path u is on, else the one a token request's scope names, else one on
// u's host (a ping), else the only one when u is unknown or a token's.
func whichRepo(u *url.URL, repos []name.Repository) (name.Repository, bool) {
	if u != nil {
		onHost := func(r name.Repository) bool { return strings.EqualFold(r.RegistryStr(), u.Host) }
		scope := u.Query().Get("scope")
		for _, match := range []func(name.Repository) bool{
			func(r name.Repository) bool {
				return onHost(r) && strings.HasPrefix(u.Path, "/v2/"+r.RepositoryStr()+"/")
			},
			func(r name.Repository) bool { return strings.Contains(scope, "repository:"+r.RepositoryStr()+":") },
			onHost,
		} {
			for _, r := range repos {
				if match(r) {
					return r, true
				}
			}
		}
	}
	if len(repos) == 1 && (u == nil || isTokenRequest(u)) {
		return repos[0], true
	}
	return name.Repository{}, false
}

// isTokenRequest reports whether u looks like a token realm's request,
// which belongs to the registry that sent promote there.
func isTokenRequest(u *url.URL) bool {
	q := u.Query()
	return q.Has("scope") || q.Has("service")
}

// done ends a Client method: err, classified (reach) against the
// operation's repositories, then redacted.
func done(err *error, repos ...name.Repository) {
	*err = redact(reach(*err, repos...))
}
