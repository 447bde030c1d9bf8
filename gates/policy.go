package gates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// PolicyConfig is the policy gate's configuration: Rego files evaluated
// in-process against the promotion's evidence document.
type PolicyConfig struct {
	// Rego lists the policy files (Rego v1 syntax), resolved against the
	// configuration file's directory.
	Rego []string `yaml:"rego"`
	// Query is the rule that lists the reasons to refuse; default
	// data.promote.deny. It must be defined (a rule of that name exists):
	// a policy whose package does not match fails closed.
	Query string `yaml:"query"`
	// Timeout bounds one evaluation; default 10s. A timeout refuses.
	Timeout Duration `yaml:"timeout"`
	// Dir is where relative Rego paths are read from (the configuration
	// file's directory); the files keep the names written, in messages
	// and evidence, so a record reads the same on every runner.
	Dir string `yaml:"-"`
}

// DefaultPolicyQuery is the policy gate's query when the configuration names none.
const DefaultPolicyQuery = "data.promote.deny"

// defaultPolicyTimeout bounds an evaluation when the configuration sets none.
const defaultPolicyTimeout = 10 * time.Second

// policyUnsafe are the built-ins a policy may not call: a gate reads only
// the document promote hands it, never the network, the clock or a source
// of randomness, so the same document gets the same verdict wherever the
// policy runs (the gate, opa eval, admission). A policy measures time
// against the document's own time.
var policyUnsafe = map[string]struct{}{
	"http.send": {}, "net.lookup_ip_addr": {}, "opa.runtime": {},
	"time.now_ns": {}, "rand.intn": {}, "uuid.rfc4122": {},
	"io.jwt.decode_verify":                                   {}, // checks expiry against the clock
	"crypto.x509.parse_and_verify_certificates":              {},
	"crypto.x509.parse_and_verify_certificates_with_options": {},
}

// PolicyFile is one policy file as evaluated: its path and the SHA-256 of
// its bytes, so the record says exactly which policy judged.
type PolicyFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

type policyGate struct {
	files   []PolicyFile
	query   string
	timeout time.Duration
	pq      rego.PreparedEvalQuery
}

func init() {
	Register("policy", func(s Settings) (Gate, error) {
		var c PolicyConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		c.Dir = s.Dir
		return NewPolicy(c)
	})
}

// NewPolicy reads and compiles the policy files once: a file that cannot be
// read, a parse or compile error (named with its file and line), a query
// that is not a rule reference, or a call of a built-in that reaches
// outside the document (http.send and the like) is a configuration error.
func NewPolicy(c PolicyConfig) (Gate, error) {
	if len(c.Rego) == 0 {
		return nil, errors.New("rego: list at least one policy file, such as rego: [policies/prod.rego]")
	}
	g := &policyGate{query: c.Query, timeout: time.Duration(c.Timeout)}
	if g.query == "" {
		g.query = DefaultPolicyQuery
	}
	if g.timeout <= 0 {
		g.timeout = defaultPolicyTimeout
	}
	ref, err := ast.ParseRef(g.query)
	if err != nil || !ref.HasPrefix(ast.DefaultRootRef) || len(ref) < 2 {
		return nil, fmt.Errorf("query: %q is not a rule reference such as %s", g.query, DefaultPolicyQuery)
	}
	opts := []func(*rego.Rego){
		rego.Query(g.query), rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(true), rego.UnsafeBuiltins(policyUnsafe),
	}
	for _, file := range c.Rego {
		path := file
		if c.Dir != "" && !filepath.IsAbs(file) {
			path = filepath.Join(c.Dir, file)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("rego: %w", err)
		}
		sum := sha256.Sum256(src)
		g.files = append(g.files, PolicyFile{Path: file, SHA256: hex.EncodeToString(sum[:])})
		opts = append(opts, rego.Module(file, string(src)))
	}
	if g.pq, err = rego.New(opts...).PrepareForEval(context.Background()); err != nil {
		return nil, fmt.Errorf("rego: %s", regoError(err))
	}
	return g, nil
}

// JudgesEvidence marks the policy gate as a judge of the evidence document.
func (g *policyGate) JudgesEvidence() {}

// paths are the policy files' paths, for a message.
func (g *policyGate) paths() string {
	out := make([]string, len(g.files))
	for i, f := range g.files {
		out[i] = f.Path
	}
	return strings.Join(out, ", ")
}
