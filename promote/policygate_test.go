package promote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/evidence"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// policyGate is a policy gate of src, for a test environment.
func policyGate(t *testing.T, src string) config.Gate {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.rego")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
	g, err := gates.NewPolicy(gates.PolicyConfig{Rego: []string{p}})
	require.NoError(t, err)
	return config.Gate{Kind: "policy", Gate: g}
}

// A policy gate judges the evidence document: what it denies is refused
// and recorded with the document it judged, nothing written; what it
// passes is promoted, and the record and the signed attestation carry the
// very document the gate judged, its history showing the refusal before.
func TestPolicyGateJudgesAndTheAttestationCarriesItsEvidence(t *testing.T) {
	for name, opts := range map[string][]worldOption{"sqlite": nil, "s3": {withS3Ledger()}} {
		t.Run(name, func(t *testing.T) { policyGateJudges(t, newWorld(t, opts...)) })
	}
}

func policyGateJudges(t *testing.T, w *world) {
	test := w.env("test")
	t.Setenv("PROMOTE_TEST_KEY_PASSWORD", "promote-test")
	test.Attest = &config.Attest{Key: filepath.Join("..", "testdata", "attest", "cosign.key"), PasswordEnv: "PROMOTE_TEST_KEY_PASSWORD"}
	test.Gates = append(test.Gates, policyGate(t, `package promote

deny contains "tag bad may not reach test" if "bad" in input.tags
deny contains "not an image" if count(input.platforms) == 0
`))
	e := w.engine()
	d := w.push("web", "1.0", "1.0")

	w.a.Requests()
	res, err := w.promote(e, "test", "web:1.0", "bad")
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, err.Error(), "policy: denied by data.promote.deny: tag bad may not reach test")
	assert.Empty(t, regtest.Writes(w.a.Requests()), "nothing written for a refused digest")
	require.NotNil(t, res.Record)
	rejected := res.Record
	assert.Equal(t, ledger.KindRejected, rejected.Kind)
	require.NotEmpty(t, rejected.Evidence, "the refusal keeps the document it was refused on")

	res, err = w.promote(e, "test", "web:1.0", "1.0")
	require.NoError(t, err)
	rec := res.Record
	var doc evidence.Document
	require.NoError(t, json.Unmarshal(rec.Evidence, &doc))
	assert.Equal(t, evidence.MediaType, doc.MediaType)
	assert.Equal(t, "test", doc.Environment)
	assert.Equal(t, "dev", doc.From)
	assert.Equal(t, "web", doc.App)
	assert.Equal(t, w.test("web"), doc.Repository)
	assert.Equal(t, w.dev("web"), doc.Source.Repository)
	assert.Equal(t, d.String(), doc.Digest)
	assert.Equal(t, []string{"1.0"}, doc.Tags)
	require.NotEmpty(t, doc.Platforms)
	assert.NotContains(t, gateNames(doc.Gates), "policy", "the document holds the verdicts it is judged after")
	require.Len(t, doc.History, 1)
	assert.Equal(t, evidence.Entry{ID: rejected.ID, Seq: rejected.Seq, Kind: "rejected", Env: "test", Time: rejected.Time, Hash: rejected.Hash}, doc.History[0])

	var pol *gates.Verdict
	for i, g := range rec.Gates {
		if g.Name == "policy" {
			pol = &rec.Gates[i]
		}
	}
	require.NotNil(t, pol)
	sum := sha256.Sum256(rec.Evidence)
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), pol.Evidence["input"], "the verdict names the document the record keeps")

	p := readAttestation(t, w.test("web"), d, rec.Hash)
	assert.Equal(t, string(rec.Evidence), string(p.Evidence), "the attestation carries the document byte for byte")
	assert.Empty(t, w.verify().Problems)
}

func gateNames(vs []evidence.Verdict) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

// A policy that cannot be evaluated fails the promotion closed: an error
// (exit 1, retryable) naming the policy file and line, nothing written and
// nothing recorded.
func TestAPolicyThatErrsFailsClosed(t *testing.T) {
	w := newWorld(t)
	test := w.env("test")
	test.Gates = append(test.Gates, policyGate(t, `package promote

deny contains msg if {
	msg := sprintf("%d", [count(input.platforms) / 0])
}
`))
	e := w.engine()
	w.push("web", "1.0", "1.0")
	before := len(w.records(ledger.Query{}))
	w.a.Requests()
	_, err := w.promote(e, "test", "web:1.0")
	require.Error(t, err)
	assert.NotErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, err.Error(), "policy.rego:4: eval_builtin_error: div: divide by zero")
	assert.Contains(t, err.Error(), "fail closed")
	assert.Empty(t, regtest.Writes(w.a.Requests()))
	assert.Len(t, w.records(ledger.Query{}), before, "nothing recorded")
	assert.Empty(t, w.tags(w.test("web")))
}

// A tree whose evidence document would be too large to keep (a dev pusher
// fills a label) is refused closed before anything is recorded: a record
// that size would be refused by the S3 ledger's reads, locking the chain.
// The ledger still answers afterwards.
func TestAnOversizedEvidenceDocumentFailsClosed(t *testing.T) {
	w := newWorld(t, withS3Ledger())
	test := w.env("test")
	test.Gates = append(test.Gates, policyGate(t, "package promote\n\ndeny contains \"never\" if false\n"))
	e := w.engine()
	w.push("web", "1.0", "1.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)

	labels := regtest.Labels("2.0")
	labels["org.example.blob"] = strings.Repeat("x", 2<<20)
	regtest.Push(t, w.dev("web")+":2.0", regtest.Image(t, 1, labels, "1000"))
	before := len(w.records(ledger.Query{}))
	w.a.Requests()
	_, err = w.promote(e, "test", "web:2.0")
	require.Error(t, err)
	assert.NotErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, err.Error(), "too large to judge")
	assert.Empty(t, regtest.Writes(w.a.Requests()))
	assert.Len(t, w.records(ledger.Query{}), before, "nothing recorded")
	cur, err := e.reader().Current(context.Background(), "test", "web")
	require.NoError(t, err, "the chain still reads")
	assert.NotEmpty(t, cur.Digest)
}

// A label value that looks like a secret reaches neither the record nor
// the attestation: the document names the rule instead.
func TestTheEvidenceDocumentRedactsSecretLabels(t *testing.T) {
	w := newWorld(t)
	test := w.env("test")
	test.Gates = append(test.Gates, policyGate(t, "package promote\n\ndeny contains \"never\" if false\n"))
	labels := regtest.Labels("1.0")
	token := "ghp_" + strings.Repeat("a1B2", 9)
	labels["org.example.token"] = token
	regtest.Push(t, w.dev("web")+":1.0", regtest.Image(t, 1, labels, "1000"))
	res, err := w.promote(w.engine(), "test", "web:1.0")
	require.NoError(t, err)
	assert.NotContains(t, string(res.Record.Evidence), token)
	var doc evidence.Document
	require.NoError(t, json.Unmarshal(res.Record.Evidence, &doc))
	require.NotEmpty(t, doc.Platforms)
	assert.Equal(t, "<redacted: github-token>", doc.Platforms[0].Config.Labels["org.example.token"])
	assert.Equal(t, labels["org.opencontainers.image.source"], doc.Platforms[0].Config.Labels["org.opencontainers.image.source"])
}

// promote gates judges the policy gate on the same document, its history
// read beside the other gates, and copies and records nothing.
func TestEvaluateJudgesThePolicyGate(t *testing.T) {
	w := newWorld(t)
	test := w.env("test")
	test.Gates = append(test.Gates, policyGate(t, "package promote\n\ndeny contains \"no tags at promote gates\" if count(input.tags) == 0\n"))
	e := w.engine()
	d := w.push("web", "1.0", "1.0")
	before := len(w.records(ledger.Query{}))
	ev, err := e.Evaluate(context.Background(), "test", w.ref("web:1.0"), nil)
	require.ErrorIs(t, err, errs.ErrGateRejected)
	var doc evidence.Document
	require.NoError(t, json.Unmarshal(ev.Evidence, &doc))
	assert.Equal(t, d.String(), doc.Digest)
	assert.Empty(t, doc.Policies, "promote gates checks no release policy")
	assert.Equal(t, "fail", ev.Gates[len(ev.Gates)-1].Verdict)
	assert.Len(t, w.records(ledger.Query{}), before, "nothing recorded")
	assert.Empty(t, w.tags(w.test("web")))
}
