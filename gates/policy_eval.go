package gates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/promote-dev/promote/gates/evidence"
	"github.com/promote-dev/promote/gates/verdict"
)

// Bounds on what a policy's messages put in the record: the reason lists
// the first maxPolicyReasons, the evidence keeps them all, each cut to
// maxPolicyMessage bytes.
const (
	maxPolicyReasons = 8
	maxPolicyMessage = 512
)

// Evaluate runs the query against the evidence document. Each message the
// query gives is a reason to refuse; none passes. A missing document, an
// evaluation error (with the policy file and line), a timeout, an
// undefined query or a result that is not a collection of messages is an
// error: the engine fails closed.
func (g *policyGate) Evaluate(ctx context.Context, s *Subject) (Verdict, error) {
	if len(s.Evidence) == 0 {
		return Verdict{}, errors.New("policy: no evidence document to judge (a bug in the engine): refused")
	}
	dec := json.NewDecoder(bytes.NewReader(s.Evidence))
	dec.UseNumber()
	var input any
	if err := dec.Decode(&input); err != nil {
		return Verdict{}, fmt.Errorf("policy: the evidence document does not decode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	at := &lastPlace{}
	rs, err := g.pq.Eval(ctx, rego.EvalInput(input), rego.EvalQueryTracer(at))
	switch {
	case err != nil && ctx.Err() == context.DeadlineExceeded:
		return Verdict{}, fmt.Errorf("policy %s: evaluating %s timed out (the gate's timeout is %s)%s: %s", g.paths(), g.query, g.timeout, at.where(), regoError(err))
	case err != nil:
		return Verdict{}, fmt.Errorf("policy: evaluating %s: %s", g.query, regoError(err))
	case len(rs) == 0 || len(rs[0].Expressions) == 0:
		return Verdict{}, fmt.Errorf("policy %s: %s is undefined: no rule of that name; check the policy's package and the gate's query", g.paths(), g.query)
	}
	msgs, err := denyMessages(rs[0].Expressions[0].Value)
	if err != nil {
		return Verdict{}, fmt.Errorf("policy %s: %s: %w", g.paths(), g.query, err)
	}
	sum := sha256.Sum256(s.Evidence)
	ev := map[string]any{
		"files": g.files, "query": g.query, "denies": msgs,
		"input": "sha256:" + hex.EncodeToString(sum[:]), "inputType": evidence.MediaType,
	}
	if len(msgs) == 0 {
		return Verdict{Name: "policy", Verdict: verdict.Pass, Reason: fmt.Sprintf("%s denies nothing (%s)", g.query, g.paths()), Evidence: ev}, nil
	}
	shown := msgs
	if len(shown) > maxPolicyReasons {
		shown = append(shown[:maxPolicyReasons:maxPolicyReasons], fmt.Sprintf("and %d more", len(msgs)-maxPolicyReasons))
	}
	return Verdict{Name: "policy", Verdict: verdict.Fail, Reason: "denied by " + g.query + ": " + strings.Join(shown, "; "), Evidence: ev}, nil
}

// lastPlace traces where in a policy file evaluation last was, so a
// timeout names the file and line it was stuck at.
type lastPlace struct{ loc atomic.Pointer[ast.Location] }

func (l *lastPlace) Enabled() bool               { return true }
func (l *lastPlace) Config() topdown.TraceConfig { return topdown.TraceConfig{} }
func (l *lastPlace) TraceEvent(e topdown.Event) {
	if e.Location != nil && e.Location.File != "" {
		l.loc.Store(e.Location)
	}
}

// where is " at FILE:LINE", or nothing when evaluation never reached a file.
func (l *lastPlace) where() string {
	if loc := l.loc.Load(); loc != nil {
		return fmt.Sprintf(" at %s:%d", loc.File, loc.Row)
	}
	return ""
}

// denyMessages turns the query's value, a set or array, into sorted
// messages: a string as it is, anything else as JSON.
func denyMessages(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("gives %s, not a set of messages: write deny contains msg if { ... }", describeValue(v))
	}
	out := make([]string, 0, len(list))
	for _, m := range list {
		s, ok := m.(string)
		if !ok {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("a message does not encode: %w", err)
			}
			s = string(b)
		}
		out = append(out, verdict.Clip(s, maxPolicyMessage))
	}
	sort.Strings(out)
	return out, nil
}

func describeValue(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// regoError says what went wrong with its policy file and line, as
// FILE:LINE: message, for every error OPA reports.
func regoError(err error) string {
	var te *topdown.Error
	if errors.As(err, &te) {
		return located(te.Location, te.Code, te.Message)
	}
	var ae ast.Errors
	if errors.As(err, &ae) && len(ae) > 0 {
		out := make([]string, len(ae))
		for i, e := range ae {
			out[i] = located(e.Location, e.Code, e.Message)
		}
		return strings.Join(out, "; ")
	}
	var one *ast.Error
	if errors.As(err, &one) {
		return located(one.Location, one.Code, one.Message)
	}
	return err.Error()
}

func located(loc *ast.Location, code, msg string) string {
	if loc == nil || loc.File == "" {
		return code + ": " + msg
	}
	return fmt.Sprintf("%s:%d: %s: %s", loc.File, loc.Row, code, msg)
}
