package ecremu

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Control-plane authentication: AWS Signature Version 4, verified the way AWS
// does it (canonical request, string to sign, derived key), against the
// secret of a credential the server knows. The request time is not checked.

// Credential is an AWS access key the emulator accepts, and the account (and
// principal ARN) it authenticates as.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // if set, X-Amz-Security-Token must carry it
	Account         string
	ARN             string    // default arn:aws:iam::<Account>:user/ecremu
	Expires         time.Time // zero: never (AssumeRole sessions expire)
}

type principal struct {
	account, arn, akid string
}

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// AddCredential registers (or replaces) an access key.
func (s *Server) AddCredential(c Credential) {
	if c.ARN == "" {
		c.ARN = "arn:aws:iam::" + c.Account + ":user/ecremu"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.AccessKeyID] = c
}

const sigAlgorithm = "AWS4-HMAC-SHA256"

// authenticateLocked checks a request signed for service ("ecr" or "sts").
func (s *Server) authenticateLocked(r *http.Request, body []byte, service string) (principal, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return principal{}, awsError("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
	if !ok {
		return principal{}, awsError("IncompleteSignatureException", "Authorization header requires '"+sigAlgorithm+"' signing")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" || r.Header.Get("X-Amz-Date") == "" {
		return principal{}, awsError("IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature', 'SignedHeaders' and an X-Amz-Date header")
	}
	cred, known := s.creds[scope[0]]
	if !known {
		return principal{}, awsError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if cred.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != cred.SessionToken {
		return principal{}, awsError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if !cred.Expires.IsZero() && !s.now().Before(cred.Expires) {
		return principal{}, awsError("ExpiredTokenException", "The security token included in the request is expired")
	}
	if scope[2] != s.opts.Region {
		return principal{}, awsError("InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", scope[2]))
	}
	if scope[3] != service || scope[4] != "aws4_request" {
		return principal{}, awsError("InvalidSignatureException", "Credential should be scoped to correct service: '"+service+"'. ")
	}
	p := principal{account: cred.Account, arn: cred.ARN, akid: cred.AccessKeyID}
	if s.opts.SkipSignatureVerification {
		return p, nil
	}
	want := signature(cred.SecretAccessKey, scope, r, fields["SignedHeaders"], body)
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return principal{}, awsError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return p, nil
}

func signature(secret string, scope []string, r *http.Request, signedHeaders string, body []byte) string {
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	var canon strings.Builder
	for _, h := range strings.Split(signedHeaders, ";") {
		canon.WriteString(h + ":" + canonicalHeaderValue(r, h) + "\n")
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	creq := strings.Join([]string{r.Method, escapePath(path), canonicalQuery(r.URL.Query()),
		canon.String(), signedHeaders, payload}, "\n")
	creqSum := sha256.Sum256([]byte(creq))
	toSign := strings.Join([]string{sigAlgorithm, r.Header.Get("X-Amz-Date"),
		strings.Join(scope[1:], "/"), hex.EncodeToString(creqSum[:])}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		return strconv.FormatInt(r.ContentLength, 10)
	}
	vals := r.Header.Values(name)
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// escapePath applies SigV4's second URI-encoding of each path segment (all
// services but S3).
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "%2F", "/")
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// authorizeLocked models cross-account access: a principal may use its own
// account's registry, and another's only if that registry granted its account
// (GrantAccount, standing in for a registry or repository policy).
func (s *Server) authorizeLocked(p principal, registryID, repoName, action string) *apiError {
	if reg := s.registries[registryID]; p.account == registryID || (reg != nil && reg.grants[p.account]) {
		return nil
	}
	return awsError("AccessDeniedException", deniedMessage(p.arn, s.opts.Region, registryID, repoName, action))
}

func deniedMessage(arn, region, registryID, repoName, action string) string {
	res := "arn:aws:ecr:" + region + ":" + registryID + ":repository/" + repoName
	return fmt.Sprintf("User: %s is not authorized to perform: ecr:%s on resource: %s because no resource-based policy allows the ecr:%s action", arn, action, res, action)
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
