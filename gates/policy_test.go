package gates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/verdict"
)

// prodPolicy is the example of docs/policy.md, the one the parity test
// also runs through opa eval.
const prodPolicy = "../testdata/policy/prod.rego"

// PolicyTable is what prod.rego says of each evidence document of
// testdata/policy/evidence: the messages it denies with, or, for an
// evaluation error, the file and line the error names. The integration
// test TestPolicyGateParityWithOPA checks opa eval says the same.
var PolicyTable = map[string]struct {
	Denies []string
	Error  string
}{
	"pass":                    {Denies: []string{}},
	"test-env":                {Denies: []string{}},
	"statement-pass":          {Denies: []string{}},
	"no-created":              {Denies: []string{"linux/amd64 says not when it was built"}},
	"built-later":             {Denies: []string{"linux/amd64 was built -182 days before its promotion (0 to 90)"}},
	"too-old":                 {Denies: []string{"linux/amd64 was built 184 days before its promotion (0 to 90)"}},
	"root":                    {Denies: []string{`linux/arm64 runs as root (user "")`}},
	"statement-root":          {Denies: []string{`linux/arm64 runs as root (user "")`}},
	"root-spelled":            {Denies: []string{`linux/amd64 runs as root (user "0:1")`, `linux/arm64 runs as root (user "root:x")`}},
	"label-and-secret":        {Denies: []string{"linux/amd64 has no org.opencontainers.image.source label", "linux/amd64 sets DB_PASSWORD in its config: pass secrets at run time"}},
	"no-test-promotion":       {Denies: []string{"the ledger shows no promotion of this digest to test"}},
	"summarized":              {Denies: []string{"the signed gate's evidence was summarised: judge it from the ledger record"}},
	"statement-no-evidence":   {Denies: noDocument},
	"statement-null-evidence": {Denies: noDocument},
	"bad-time":                {Error: "prod.rego:64: eval_builtin_error: time.parse_rfc3339_ns"},
}

// noDocument is what prod.rego says of an attestation that carries no
// evidence document: nothing to judge is a refusal, not a pass.
var noDocument = []string{"no promote evidence document (application/vnd.promote.evidence.v1+json) to judge", "the signed gate did not pass this digest"}

func newPolicyGate(t *testing.T, c PolicyConfig) Gate {
	t.Helper()
	g, err := NewPolicy(c)
	require.NoError(t, err)
	return g
}

func evidenceFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "policy", "evidence", name+".json"))
	require.NoError(t, err)
	return b
}

func TestPolicyGateJudgesTheEvidenceDocument(t *testing.T) {
	g := newPolicyGate(t, PolicyConfig{Rego: []string{prodPolicy}, Query: "data.signature.deny"})
	src, err := os.ReadFile(prodPolicy)
	require.NoError(t, err)
	fileSum := sha256.Sum256(src)
	docs, err := filepath.Glob(filepath.Join("..", "testdata", "policy", "evidence", "*.json"))
	require.NoError(t, err)
	require.Len(t, docs, len(PolicyTable), "every evidence document has its row")
	for name, want := range PolicyTable {
		t.Run(name, func(t *testing.T) {
			doc := evidenceFile(t, name)
			v, err := g.Evaluate(context.Background(), &Subject{Evidence: doc})
			if want.Error != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), want.Error)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, verdict.Of(len(want.Denies) == 0), v.Verdict)
			assert.Equal(t, want.Denies, v.Evidence["denies"])
			for _, m := range want.Denies {
				assert.Contains(t, v.Reason, m)
			}
			sum := sha256.Sum256(doc)
			assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), v.Evidence["input"], "the record names the very document judged")
			assert.Equal(t, []PolicyFile{{Path: prodPolicy, SHA256: hex.EncodeToString(fileSum[:])}}, v.Evidence["files"])
		})
	}
}

func writePolicy(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.rego")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
	return p
}

func TestPolicyGateRefusesWhatItCannotCompile(t *testing.T) {
	cases := map[string]struct{ src, query, want string }{
		"syntax":       {"package promote\n\ndeny contains msg if {\n\tmsg := \n}\n", "", "p.rego:5: rego_parse_error: unexpected } token"},
		"http.send":    {"package promote\n\ndeny contains x if {\n\tx := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:1\"})\n}\n", "", "p.rego:4: rego_type_error: unsafe built-in function calls in expression: http.send"},
		"bad query":    {"package promote\n", "promote.deny", `query: "promote.deny" is not a rule reference`},
		"clock":        {"package promote\n\ndeny contains \"late\" if time.now_ns() > 0\n", "", "p.rego:3: rego_type_error: unsafe built-in function calls in expression: time.now_ns"},
		"randomness":   {"package promote\n\ndeny contains \"unlucky\" if rand.intn(\"x\", 2) == 0\n", "", "p.rego:3: rego_type_error: unsafe built-in function calls in expression: rand.intn"},
		"v0 syntax":    {"package promote\n\ndeny[msg] { msg := \"x\" }\n", "", "p.rego:3: rego_parse_error"},
		"unknown func": {"package promote\n\ndeny contains msg if {\n\tmsg := nosuch(1)\n}\n", "", "p.rego:4: rego_type_error: undefined function nosuch"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewPolicy(PolicyConfig{Rego: []string{writePolicy(t, c.src)}, Query: c.query})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := NewPolicy(PolicyConfig{})
	assert.ErrorContains(t, err, "list at least one policy file")
	_, err = NewPolicy(PolicyConfig{Rego: []string{filepath.Join(t.TempDir(), "missing.rego")}})
	assert.ErrorContains(t, err, "missing.rego")
}

func TestPolicyGateFailsClosed(t *testing.T) {
	doc := evidenceFile(t, "pass")
	cases := map[string]struct {
		src     string
		timeout time.Duration
		subj    *Subject
		want    string
	}{
		"no document":   {src: "package promote\n\ndeny contains \"x\" if false\n", subj: &Subject{}, want: "no evidence document"},
		"wrong package": {src: "package other\n\ndeny contains \"x\" if false\n", want: "data.promote.deny is undefined"},
		"not a set":     {src: "package promote\n\ndeny := true\n", want: "gives a boolean, not a set of messages"},
		"builtin error": {src: "package promote\n\ndeny contains msg if {\n\tmsg := sprintf(\"%d\", [1 / 0])\n}\n", want: "p.rego:4: eval_builtin_error: div: divide by zero"},
		"conflict":      {src: "package promote\n\nx := 1 if input.digest\nx := 2 if input.app\n\ndeny contains \"x\" if x\n", want: "p.rego:4: eval_conflict_error: rule data.promote.x produced conflicting values"},
		"timeout": {src: "package promote\n\ndeny contains msg if {\n\tsome i in numbers.range(1, 100000000)\n\tsome j in numbers.range(1, 100000000)\n\ti + j < 0\n\tmsg := \"never\"\n}\n",
			timeout: 50 * time.Millisecond, want: "timed out (the gate's timeout is 50ms) at "},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := writePolicy(t, c.src)
			g := newPolicyGate(t, PolicyConfig{Rego: []string{p}, Timeout: Duration(c.timeout)})
			s := c.subj
			if s == nil {
				s = &Subject{Evidence: doc}
			}
			start := time.Now()
			_, err := g.Evaluate(context.Background(), s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if name != "no document" {
				assert.Contains(t, err.Error(), p, "the error names the policy file")
			}
			assert.Less(t, time.Since(start), 30*time.Second)
		})
	}
}

func TestPolicyGateMessagesThatAreNotStrings(t *testing.T) {
	p := writePolicy(t, "package promote\n\ndeny contains {\"msg\": \"root\", \"platform\": p.platform} if {\n\tsome p in input.platforms\n}\n")
	g := newPolicyGate(t, PolicyConfig{Rego: []string{p}})
	v, err := g.Evaluate(context.Background(), &Subject{Evidence: evidenceFile(t, "pass")})
	require.NoError(t, err)
	assert.Equal(t, verdict.Fail, v.Verdict)
	assert.Equal(t, []string{`{"msg":"root","platform":"linux/amd64"}`, `{"msg":"root","platform":"linux/arm64"}`}, v.Evidence["denies"])
}

// Policy files are named as the configuration writes them, relative to its
// directory, in errors and evidence alike: a record reads the same on
// every runner.
func TestPolicyFilesKeepTheirConfiguredNames(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "policies"), 0o700))
	src := "package promote\n\ndeny contains msg if {\n\tmsg := sprintf(\"%d\", [1 / 0])\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "policies", "prod.rego"), []byte(src), 0o600))
	g := newPolicyGate(t, PolicyConfig{Rego: []string{"policies/prod.rego"}, Dir: dir})
	_, err := g.Evaluate(context.Background(), &Subject{Evidence: evidenceFile(t, "pass")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evaluating data.promote.deny: policies/prod.rego:4: eval_builtin_error")
	assert.NotContains(t, err.Error(), dir)
	assert.Equal(t, "policies/prod.rego", g.(*policyGate).files[0].Path)
}

// A message is cut to 512 bytes in the record; the reason lists eight.
func TestPolicyMessagesAreBounded(t *testing.T) {
	p := writePolicy(t, "package promote\n\ndeny contains concat(\"\", [sprintf(\"%02d\", [i]), concat(\"\", [\"é\" | some _ in numbers.range(1, 400)])]) if {\n\tsome i in numbers.range(1, 12)\n}\n")
	g := newPolicyGate(t, PolicyConfig{Rego: []string{p}})
	v, err := g.Evaluate(context.Background(), &Subject{Evidence: evidenceFile(t, "pass")})
	require.NoError(t, err)
	denies := v.Evidence["denies"].([]string)
	require.Len(t, denies, 12)
	for _, d := range denies {
		assert.LessOrEqual(t, len(d), maxPolicyMessage)
		assert.True(t, strings.HasSuffix(d, "…"))
		assert.True(t, utf8.ValidString(d))
	}
	assert.Contains(t, v.Reason, "and 4 more")
}

// BenchmarkPolicyGate is one evaluation of testdata/policy/prod.rego (the
// example of docs/policy.md) on a document it denies twice, tracer and all.
func BenchmarkPolicyGate(b *testing.B) {
	g, err := NewPolicy(PolicyConfig{Rego: []string{prodPolicy}, Query: "data.signature.deny"})
	require.NoError(b, err)
	doc, err := os.ReadFile(filepath.Join("..", "testdata", "policy", "evidence", "label-and-secret.json"))
	require.NoError(b, err)
	s := &Subject{Evidence: doc}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Evaluate(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
}
