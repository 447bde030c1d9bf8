package ecremu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
)

// The registry data plane: OCI distribution API v2 on the same state as the
// control plane. Errors are {"errors":[{"code":..., "message":...}]}.

// regCall is one data-plane request in progress.
type regCall struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	account string
	p       principal
	name    string // repository
	ref     string // tag, digest or upload id
	action  string // the ECR action it stands for
	errCode string
}

type route struct {
	pattern *regexp.Regexp
	methods map[string]string // HTTP method -> ECR action
	handle  func(c *regCall)
}

var routes = []route{
	{regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`), map[string]string{
		"GET": "BatchGetImage", "HEAD": "BatchGetImage", "PUT": "PutImage", "DELETE": "BatchDeleteImage"}, (*regCall).manifest},
	{regexp.MustCompile(`^/v2/(.+)/blobs/uploads/([^/]*)$`), map[string]string{
		"POST": "InitiateLayerUpload", "PATCH": "UploadLayerPart", "PUT": "CompleteLayerUpload",
		"GET": "UploadLayerPart", "DELETE": "UploadLayerPart"}, (*regCall).upload},
	{regexp.MustCompile(`^/v2/(.+)/blobs/([^/]+)$`), map[string]string{
		"GET": "GetDownloadUrlForLayer", "HEAD": "BatchCheckLayerAvailability"}, (*regCall).blob},
	{regexp.MustCompile(`^/v2/(.+)/tags/list$`), map[string]string{"GET": "ListImages"}, (*regCall).tagsList},
	{regexp.MustCompile(`^/v2/(.+)/referrers/([^/]+)$`), map[string]string{"GET": "ListImageReferrers"}, (*regCall).referrers},
}

func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request, account string) {
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	c := &regCall{s: s, w: w, r: r, account: account}
	p, ok := c.authenticate()
	if !ok {
		return
	}
	c.p = p
	if r.URL.Path == "/v2" || r.URL.Path == "/v2/" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		return
	}
	var handle func(*regCall)
	for _, rt := range routes {
		m := rt.pattern.FindStringSubmatch(r.URL.Path)
		if m == nil {
			continue
		}
		c.name = m[1]
		if len(m) > 2 {
			c.ref = m[2]
		}
		action, ok := rt.methods[r.Method]
		if !ok {
			c.fail(http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.")
			return
		}
		c.action, handle = action, rt.handle
		break
	}
	if handle == nil {
		c.fail(http.StatusNotFound, "UNSUPPORTED", "The operation is unsupported.")
		return
	}
	if !c.admit() {
		return
	}
	handle(c)
	s.mu.Lock()
	s.recordLocked(Event{Plane: "registry", Action: c.action, Registry: account, Repository: c.name,
		Principal: c.p.arn, Error: c.errCode})
	s.mu.Unlock()
}

// admit applies injected throttling, cross-account access and repository
// existence, in that order.
func (c *regCall) admit() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	fail := func(status int, code, msg string) bool {
		c.failLocked(status, code, msg)
		return false
	}
	if c.s.regThrottle > 0 {
		c.s.regThrottle--
		return fail(http.StatusTooManyRequests, "TOOMANYREQUESTS", "Rate exceeded")
	}
	if aerr := c.s.authorizeLocked(c.p, c.account, c.name, c.action); aerr != nil {
		return fail(http.StatusForbidden, "DENIED", aerr.Message)
	}
	if c.repoLocked() == nil {
		return fail(http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", c.name, c.account))
	}
	return true
}

// repoLocked is the addressed repository, or nil.
func (c *regCall) repoLocked() *repository {
	reg := c.s.registries[c.account]
	if reg == nil {
		return nil
	}
	return reg.repos[c.name]
}

type regErrorBody struct {
	Errors []regErrorItem `json:"errors"`
}

type regErrorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fail writes a registry error (no body for HEAD) and records its code.
func (c *regCall) fail(status int, code, msg string) {
	c.errCode = code
	if c.r.Method == http.MethodHead {
		c.w.WriteHeader(status)
		return
	}
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(status)
	_ = json.NewEncoder(c.w).Encode(regErrorBody{Errors: []regErrorItem{{Code: code, Message: msg}}})
}

// failLocked is fail from code that holds s.mu, and records the event.
func (c *regCall) failLocked(status int, code, msg string) {
	c.fail(status, code, msg)
	c.s.recordLocked(Event{Plane: "registry", Action: c.action, Registry: c.account, Repository: c.name,
		Principal: c.p.arn, Error: code})
}

// Data-plane authentication: HTTP Basic, user "AWS", password from
// GetAuthorizationToken. Without credentials ECR answers 401 with a Basic
// challenge; with an expired token, 403 DENIED.

const (
	msgNotAuthorized = "Not Authorized"
	msgTokenExpired  = "Your authorization token has expired. Reauthenticate and try again."
	msgTokenInvalid  = "Your authorization token is invalid."
)

// authenticate returns the principal behind the request's token, or writes
// the error and returns false.
func (c *regCall) authenticate() (principal, bool) {
	user, password, ok := c.r.BasicAuth()
	if !ok {
		c.challenge()
		return principal{}, false
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	tok := c.s.tokens[password]
	if user != "AWS" || tok == nil {
		c.w.Header().Set("WWW-Authenticate", c.challengeValue())
		c.failLocked(http.StatusUnauthorized, "DENIED", msgTokenInvalid)
		return principal{}, false
	}
	if !c.s.now().Before(tok.expires) {
		c.failLocked(http.StatusForbidden, "DENIED", msgTokenExpired)
		return principal{}, false
	}
	return tok.principal, true
}

func (c *regCall) challengeValue() string {
	return `Basic realm="` + scheme(c.r) + "://" + c.r.Host + `/",service="ecr.amazonaws.com"`
}

// challenge is ECR's answer to a request without credentials.
func (c *regCall) challenge() {
	c.w.Header().Set("WWW-Authenticate", c.challengeValue())
	c.errCode = "UNAUTHORIZED"
	if c.r.Method == http.MethodHead {
		c.w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	c.w.WriteHeader(http.StatusUnauthorized)
	_, _ = c.w.Write([]byte(msgNotAuthorized + "\n"))
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
