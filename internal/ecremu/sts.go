package ecremu

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A minimal STS (AWS Query protocol, XML answers) so that a principal of one
// account can reach another account's registry by role, as the SDK's
// stscreds.AssumeRoleProvider does: AssumeRole and GetCallerIdentity. Point
// the SDK's STS client at Server.URL (BaseEndpoint or AWS_ENDPOINT_URL_STS).

type role struct {
	arn, account, name string
	trusted            map[string]bool // principal accounts the trust policy allows
}

var roleArnPattern = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)

// AddRole defines a role (arn:aws:iam::<account>:role/<name>) that principals
// of the trusted accounts may assume; its sessions act in the role's account.
func (s *Server) AddRole(arn string, trustedAccounts ...string) error {
	m := roleArnPattern.FindStringSubmatch(arn)
	if m == nil {
		return fmt.Errorf("ecremu: invalid role ARN %q", arn)
	}
	r := &role{arn: arn, account: m[1], name: m[2], trusted: map[string]bool{}}
	for _, a := range trustedAccounts {
		r.trusted[a] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = r
	return nil
}

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsErrorCodes maps authentication failures to STS's names for them.
var stsErrorCodes = map[string]string{
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"ExpiredTokenException":               "ExpiredToken",
}

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		stsError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	action := form.Get("Action")
	p, aerr := s.authenticateLocked(r, body, "sts")
	if aerr != nil {
		s.recordLocked(Event{Plane: "sts", Action: action, Error: stsErrorCodes[aerr.Type]})
		stsError(w, http.StatusForbidden, stsErrorCodes[aerr.Type], aerr.Message)
		return
	}
	var result any
	code, status, msg := "", http.StatusOK, ""
	switch action {
	case "GetCallerIdentity":
		result = struct {
			XMLName xml.Name `xml:"GetCallerIdentityResult"`
			Arn     string   `xml:"Arn"`
			UserID  string   `xml:"UserId"`
			Account string   `xml:"Account"`
		}{Arn: p.arn, UserID: p.akid, Account: p.account}
	case "AssumeRole":
		result, code, msg = s.assumeRoleLocked(p, form)
		if code == "AccessDenied" {
			status = http.StatusForbidden
		} else if code != "" {
			status = http.StatusBadRequest
		}
	default:
		code, status, msg = "InvalidAction", http.StatusBadRequest, "Could not find operation "+action+" for version 2011-06-15"
	}
	s.recordLocked(Event{Plane: "sts", Action: action, Principal: p.arn, Error: code})
	if code != "" {
		stsError(w, status, code, msg)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName  xml.Name
		Xmlns    string `xml:"xmlns,attr"`
		Result   any
		Metadata metadata `xml:"ResponseMetadata"`
	}{XMLName: xml.Name{Local: action + "Response"}, Xmlns: stsNamespace, Result: result, Metadata: metadata{requestID()}})
}

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func (s *Server) assumeRoleLocked(p principal, form url.Values) (any, string, string) {
	arn, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	if !sessionNamePattern.MatchString(session) {
		return nil, "ValidationError", "1 validation error detected: Value '" + session + "' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
	}
	duration := 3600
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 3600 {
			return nil, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
		}
		duration = n
	}
	r := s.roles[arn]
	if r == nil || !r.trusted[p.account] {
		return nil, "AccessDenied", "User: " + p.arn + " is not authorized to perform: sts:AssumeRole on resource: " + arn
	}
	exp := s.now().Add(time.Duration(duration) * time.Second)
	c := Credential{AccessKeyID: "ASIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomString(40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+"),
		SessionToken:    randomString(64, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		Account:         r.account, ARN: "arn:aws:sts::" + r.account + ":assumed-role/" + r.name + "/" + session, Expires: exp}
	s.creds[c.AccessKeyID] = c
	type creds struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type user struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	return struct {
		XMLName     xml.Name `xml:"AssumeRoleResult"`
		Credentials creds    `xml:"Credentials"`
		User        user     `xml:"AssumedRoleUser"`
	}{Credentials: creds{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, exp.Format(time.RFC3339)},
		User: user{"AROA" + strings.ToUpper(randomString(16, "abcdefghijklmnopqrstuvwxyz234567")) + ":" + session, c.ARN}}, "", ""
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}{Xmlns: stsNamespace, Error: struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}{"Sender", code, msg}, RequestID: requestID()})
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
