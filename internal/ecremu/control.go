package ecremu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The control plane: AWS JSON 1.1. Every call is POST / with
// X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>, a JSON body, and a
// JSON answer; errors are HTTP 400 with {"__type": ..., "message": ...}.

const targetPrefix = "AmazonEC2ContainerRegistry_V20150921."

type apiError struct {
	Type    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func awsError(typ, msg string) *apiError {
	return &apiError{Type: typ, Message: msg, Status: http.StatusBadRequest}
}
func invalidParam(msg string) *apiError  { return awsError("InvalidParameterException", msg) }
func validationErr(msg string) *apiError { return awsError("ValidationException", msg) }

func repoNotFound(name, registry string) *apiError {
	return awsError("RepositoryNotFoundException", fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, registry))
}

// controlCall is one control-plane request in progress.
type controlCall struct {
	s    *Server
	p    principal
	op   string
	host string
	// what the call touched, for the event log
	registry, repository string
}

type opHandler func(c *controlCall, body []byte) (any, *apiError)

var controlOps map[string]opHandler

func init() {
	controlOps = map[string]opHandler{
		"CreateRepository":          (*controlCall).createRepository,
		"DescribeRepositories":      (*controlCall).describeRepositories,
		"PutImageTagMutability":     (*controlCall).putImageTagMutability,
		"GetLifecyclePolicy":        (*controlCall).getLifecyclePolicy,
		"GetAccountSetting":         (*controlCall).getAccountSetting,
		"PutAccountSetting":         (*controlCall).putAccountSetting,
		"DescribeImages":            (*controlCall).describeImages,
		"BatchGetImage":             (*controlCall).batchGetImage,
		"PutImage":                  (*controlCall).putImage,
		"DescribeImageScanFindings": (*controlCall).describeImageScanFindings,
		"GetAuthorizationToken":     (*controlCall).getAuthorizationToken,
	}
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeAWSError(w, awsError("SerializationException", "could not read request body"))
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	handler := controlOps[op]
	if !ok || handler == nil || r.Method != http.MethodPost {
		writeAWSError(w, awsError("UnknownOperationException", ""))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &controlCall{s: s, op: op, host: r.Host}
	out, aerr := c.dispatch(r, body, handler)
	s.recordLocked(Event{Plane: "control", Action: op, Registry: c.registry, Repository: c.repository,
		Principal: c.p.arn, Error: errType(aerr)})
	if aerr != nil {
		writeAWSError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(dropEmpty(out))
}

// dropEmpty removes absent members from a map answer, as AWS omits them.
func dropEmpty(out any) any {
	m, ok := out.(map[string]any)
	if !ok {
		return out
	}
	for k, v := range m {
		rv := reflect.ValueOf(v)
		switch {
		case v == nil:
			delete(m, k)
		case rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map:
			if rv.IsNil() {
				delete(m, k)
			}
		case rv.Kind() == reflect.String && rv.Len() == 0:
			delete(m, k)
		}
	}
	return m
}

func (c *controlCall) dispatch(r *http.Request, body []byte, h opHandler) (any, *apiError) {
	p, aerr := c.s.authenticateLocked(r, body, "ecr")
	if aerr != nil {
		return nil, aerr
	}
	c.p = p
	if n := c.s.throttle[c.op]; n > 0 {
		c.s.throttle[c.op] = n - 1
		return nil, awsError("ThrottlingException", "Rate exceeded")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return h(c, body)
}

func errType(e *apiError) string {
	if e == nil {
		return ""
	}
	return e.Type
}

func writeAWSError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

// decode reads a request body into in, as AWS does: unknown members ignored.
func decode(body []byte, in any) *apiError {
	if err := json.Unmarshal(body, in); err != nil {
		return awsError("SerializationException", "Could not parse request body: "+err.Error())
	}
	return nil
}

// registryFor resolves registryId (default: the caller's account) and checks
// the caller may act on it for the given repository.
func (c *controlCall) registryFor(registryID, repoName string) (*registry, *apiError) {
	if registryID == "" {
		registryID = c.p.account
	}
	if !accountPattern.MatchString(registryID) {
		return nil, invalidParam("Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''")
	}
	c.registry, c.repository = registryID, repoName
	if aerr := c.s.authorizeLocked(c.p, registryID, repoName, c.op); aerr != nil {
		return nil, aerr
	}
	return c.s.registryLocked(registryID), nil
}

// repoFor is registryFor plus the repository, which must exist.
func (c *controlCall) repoFor(registryID, name string) (*registry, *repository, *apiError) {
	if name == "" {
		return nil, nil, validationErr("1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null")
	}
	reg, aerr := c.registryFor(registryID, name)
	if aerr != nil {
		return nil, nil, aerr
	}
	repo := reg.repos[name]
	if repo == nil {
		return nil, nil, repoNotFound(name, reg.id)
	}
	return reg, repo, nil
}

// epochTime marshals as AWS JSON timestamps do: epoch seconds, fractional.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64)), nil
}

func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

// paginate slices n items by maxResults/nextToken (page size 100 by default).
func paginate(n int, maxResults *int, nextToken string) (start, end int, next string, aerr *apiError) {
	size := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 1000 {
			return 0, 0, "", validationErr(fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000", *maxResults))
		}
		size = *maxResults
	}
	if nextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(nextToken)
		v, ok := strings.CutPrefix(string(raw), "ecremu:")
		at, err2 := strconv.Atoi(v)
		if err != nil || !ok || err2 != nil || at < 0 || at > n {
			return 0, 0, "", invalidParam("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'")
		}
		start = at
	}
	end = min(start+size, n)
	if end < n {
		next = base64.RawURLEncoding.EncodeToString([]byte("ecremu:" + strconv.Itoa(end)))
	}
	return start, end, next, nil
}
