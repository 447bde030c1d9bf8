package promote

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
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
