package promote

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// approverKey is an approver's key pair, made for the test: the private
// key file (unencrypted PKCS#8), the public key file and the signer.
type approverKey struct {
	key, pub string
	s        *attest.Signer
}

func newApproverKey(t *testing.T, name string) approverKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	require.NoError(t, err)
	dir := t.TempDir()
	k := approverKey{key: filepath.Join(dir, name+".key"), pub: filepath.Join(dir, name+".pub")}
	require.NoError(t, os.WriteFile(k.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(k.pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644))
	k.s, err = attest.LoadSigner(k.key, ApprovePasswordEnv)
	require.NoError(t, err)
	return k
}

// requireApprovals gives env an approvals block listing pubs.
func requireApprovals(t *testing.T, env *config.Environment, required int, expires time.Duration, pubs ...string) {
	t.Helper()
	sc := gates.SignedConfig{Keys: pubs}
	v, err := gates.NewSignatureVerifier(sc, gates.Settings{})
	require.NoError(t, err)
	env.Approvals = &config.Approvals{Required: required, Signers: sc, Verifier: v, Expires: expires}
}

// attachApproval signs an approval as a, for env, of digest in the repository
// repo, written at when, and attaches it: what an approver could do with
// cosign, whatever the key and predicate.
func (w *world) attachApproval(a *attest.Signer, approver, repo, env, digest string, when time.Time) {
	w.t.Helper()
	reg := w.client()
	r, err := reg.Repository(repo)
	require.NoError(w.t, err)
	st, err := attest.BuildApproval(attest.Approval{Environment: env, App: "web", Approver: approver, Reason: "looks good",
		Repository: r.Name(), Digest: digest, Time: when})
	require.NoError(w.t, err)
	_, err = a.AttestApproval(context.Background(), reg, r, st)
	require.NoError(w.t, err)
}

func (w *world) approve(e *Engine, k approverKey, env, ref, approver string) (*ApproveResult, error) {
	return e.Approve(ctxTimeout(w.t.(*testing.T)), ApproveRequest{Env: env, Ref: w.ref(ref), Key: k.key, Reason: "CAB-7 reviewed", Approver: approver})
}

// promoterKey is the test environment's promotion attestation key
// (testdata/attest/cosign.key).
func promoterKey(t *testing.T) (*config.Attest, *attest.Signer) {
	t.Helper()
	t.Setenv("PROMOTE_TEST_KEY_PASSWORD", "promote-test")
	a := &config.Attest{Key: filepath.Join("..", "testdata", "attest", "cosign.key"), PasswordEnv: "PROMOTE_TEST_KEY_PASSWORD"}
	s, err := attest.LoadSigner(a.Key, a.PasswordEnv)
	require.NoError(t, err)
	return a, s
}

// The counting rules, on real attachments in a registry: of everything
// attached to web:1.0 in dev, only alice's first approval counts — not her
// second, nor bob's for prod or for another digest, carol's expired or
// future-dated ones, dave's (an unlisted key) or the promoter's own. The
// refusal is one rejected record saying who approved and how to approve;
// bob's approval of the digest for test lets the promotion through, and
// the record's policies show the verdict.
func TestApprovalsCountingRules(t *testing.T) {
	var now atomic.Value
	start := time.Now().UTC().Truncate(time.Second)
	now.Store(start)
	w := newWorld(t, withEngineOptions(WithClock(func() time.Time { return now.Load().(time.Time) })))
	e := w.engine()
	alice, bob, carol, dave := newApproverKey(t, "alice"), newApproverKey(t, "bob"), newApproverKey(t, "carol"), newApproverKey(t, "dave")
	test := w.env("test")
	att, promoter := promoterKey(t)
	test.Attest = att
	requireApprovals(t, test, 2, 72*time.Hour, alice.pub, bob.pub, carol.pub, filepath.Join("..", "testdata", "attest", "cosign.pub"))
	requireApprovals(t, w.env("prod"), 1, 0, bob.pub)

	d1 := w.push("web", "1.0", "1.0").String()
	d2 := w.push("web", "2.0", "2.0").String()
	first, err := w.approve(e, alice, "test", "web@"+d1, "alice")
	require.NoError(t, err)
	assert.Equal(t, w.dev("web"), first.Repository, "attached in the repository test is promoted from")
	assert.Equal(t, alice.s.Key().ID, first.KeyID)
	now.Store(start.Add(time.Minute))
	_, err = w.approve(e, alice, "test", "web@"+d1, "alice again")
	require.NoError(t, err)
	w.attachApproval(bob.s, "bob for prod", w.dev("web"), "prod", d1, start)
	_, err = w.approve(e, bob, "test", "web@"+d2, "bob")
	require.NoError(t, err)
	now.Store(start.Add(-73 * time.Hour))
	_, err = w.approve(e, carol, "test", "web@"+d1, "carol last week")
	require.NoError(t, err)
	now.Store(start.Add(time.Hour))
	_, err = w.approve(e, carol, "test", "web@"+d1, "carol tomorrow")
	require.NoError(t, err)
	w.attachApproval(dave.s, "dave", w.dev("web"), "test", d1, start)
	w.attachApproval(promoter, "promoter", w.dev("web"), "test", d1, start)
	now.Store(start.Add(2 * time.Minute))

	dry, err := w.dryRun(e, "test", "web:1.0")
	require.ErrorIs(t, err, errs.ErrGateRejected, "a dry run counts approvals too")
	require.Len(t, dry.Policies, 1)
	assert.Empty(t, w.records(ledger.Query{App: "web", Env: "test"}), "a dry run records nothing")

	res, err := w.promote(e, "test", "web:1.0")
	require.ErrorIs(t, err, errs.ErrGateRejected, "exit 3")
	var pr *errs.PolicyRefusal
	require.ErrorAs(t, err, &pr)
	assert.Equal(t, PolicyApprovals, pr.Policy)
	assert.Contains(t, err.Error(), "test: 1 of 2 required approvals of web@"+d1+": approved by alice (")
	assert.Contains(t, err.Error(), "1 missing; 6 did not count")
	assert.Contains(t, err.Error(), "promote approve test web@"+d1+" --key FILE --reason TEXT")
	assert.Empty(t, w.tags(w.test("web")), "nothing copied")
	require.Len(t, res.Policies, 1)
	v := res.Policies[0]
	assert.Equal(t, verdict.Fail, v.Verdict)
	tally := ApprovalTally{Required: v.Evidence["required"].(int), Approved: v.Evidence["approved"].([]Approval),
		NotCounted: v.Evidence["notCounted"].([]NotCounted), Missing: v.Evidence["missing"].(int)}
	assert.Equal(t, 2, tally.Required)
	assert.Equal(t, 1, tally.Missing)
	require.Len(t, tally.Approved, 1)
	assert.Equal(t, "alice", tally.Approved[0].Approver)
	assert.Equal(t, "CAB-7 reviewed", tally.Approved[0].Reason)
	assert.Equal(t, start.Format(time.RFC3339), tally.Approved[0].Time)
	why := map[string]string{}
	for _, n := range tally.NotCounted {
		who := n.Approver
		if n.Signer == "" {
			who = "unverified"
		}
		why[who] += n.Why
	}
	assert.Equal(t, map[string]string{
		"alice again":     "a second approval by the same signer: each signer counts once",
		"bob for prod":    `it approves environment "prod", not test`,
		"promoter":        "signed with the key of test's promotion attestations: the promoter never approves its own promotion",
		"carol last week": "expired at " + start.Add(-time.Hour).Format(time.RFC3339) + " (given " + start.Add(-73*time.Hour).Format(time.RFC3339) + "; approvals expire after 3d)",
		"carol tomorrow":  "dated " + start.Add(time.Hour).Format(time.RFC3339) + ", in the future",
		"unverified":      "signature does not verify with any key",
	}, why, "bob's approval of another digest is not even seen")

	recs := w.records(ledger.Query{App: "web", Env: "test"})
	require.Len(t, recs, 1, "one record of the refusal")
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	assert.Contains(t, recs[0].Rejection, "release policy approvals: test: 1 of 2 required approvals")
	require.Len(t, recs[0].Policies, 1)
	assert.Equal(t, PolicyApprovals, recs[0].Policies[0].Name)

	_, err = w.approve(e, bob, "test", "web@"+d1, "")
	require.NoError(t, err)
	res, err = w.promote(e, "test", "web:1.0")
	require.NoError(t, err, "alice and bob: two distinct approvers")
	assert.Contains(t, w.tags(w.test("web")), "1.0")
	require.Len(t, res.Record.Policies, 1)
	assert.Equal(t, verdict.Pass, res.Record.Policies[0].Verdict)
	assert.Contains(t, res.Record.Policies[0].Reason, "2 of 2 required approvals: approved by alice (")
	assert.Contains(t, res.Record.Policies[0].Reason, ", test (", "bob's approver defaults to the engine's actor identity")
}

// promote approve refuses, writing nothing, what could not count: an
// environment without approvals, no digest, no reason, a digest not in the
// source repository, an unlisted key, the promoter's own key.
func TestApproveRefusals(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	alice, dave := newApproverKey(t, "alice"), newApproverKey(t, "dave")
	test := w.env("test")
	att, _ := promoterKey(t)
	test.Attest = att
	requireApprovals(t, test, 1, 0, alice.pub, filepath.Join("..", "testdata", "attest", "cosign.pub"))
	d := w.push("web", "1.0", "1.0").String()
	missing := "sha256:" + "ab12"[0:4] + d[len("sha256:")+4:]
	w.a.Requests()

	for _, tc := range []struct {
		req  ApproveRequest
		want string
	}{
		{ApproveRequest{Env: "prod", Ref: w.ref("web@" + d), Key: alice.key, Reason: "ok"}, "environment prod has no approvals block"},
		{ApproveRequest{Env: "test", Ref: w.ref("web:1.0"), Key: alice.key, Reason: "ok"}, "an approval is of one digest: pass web@DIGEST"},
		{ApproveRequest{Env: "test", Ref: w.ref("web@" + d), Key: alice.key, Reason: " "}, "--reason TEXT is required"},
		{ApproveRequest{Env: "test", Ref: w.ref("web@" + d), Reason: "ok"}, "--key FILE is required"},
		{ApproveRequest{Env: "test", Ref: w.ref("web@" + missing), Key: alice.key, Reason: "ok"}, "is not in " + w.dev("web")},
		{ApproveRequest{Env: "test", Ref: w.ref("web@" + d), Key: dave.key, Reason: "ok"}, "is not among test's approvals keys"},
		{ApproveRequest{Env: "test", Ref: w.ref("web@" + d), Key: att.Key, Reason: "ok"}, "signs test's promotion attestations"},
	} {
		if tc.req.Key == att.Key {
			t.Setenv(ApprovePasswordEnv, "promote-test")
		}
		_, err := e.Approve(ctxTimeout(t), tc.req)
		require.ErrorIs(t, err, errs.ErrUsage, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
	assert.Empty(t, regtest.Writes(w.a.Requests()), "nothing written")
}

// A break-glass pass that requires approvals in an environment without an
// approvals block is refused: nothing there can approve.
func TestBreakGlassApprovalsWithoutApprovalsBlock(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	w.push("web", "1.0", "1.0")
	r, err := e.newRun(Request{Env: "test", Ref: w.ref("web:1.0")})
	require.NoError(t, err)
	r.glassApprovals = 2
	err = r.approvals(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, err.Error(), "the break-glass pass requires 2 approvals, but test has no approvals block")
	require.Len(t, r.res.Policies, 1)
	assert.Equal(t, verdict.Fail, r.res.Policies[0].Verdict)

	r, err = e.newRun(Request{Env: "test", Ref: w.ref("web:1.0")})
	require.NoError(t, err)
	require.NoError(t, r.approvals(ctxTimeout(t)), "no approvals block and no break-glass: no policy")
	assert.Empty(t, r.res.Policies)
}

// Status shows, for prod, the approvals of what test runs and prod does
// not: who approved and how many are missing; a registry that cannot be
// read is said in prod's row, and the rest of the status stands.
func TestStatusShowsPendingApprovals(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	alice, bob := newApproverKey(t, "alice"), newApproverKey(t, "bob")
	prod := w.env("prod")
	requireApprovals(t, prod, 2, 0, alice.pub, bob.pub)
	w.push("web", "1.0", "1.0")
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	d := res.Digest
	_, err = w.approve(e, alice, "prod", "web@"+d, "alice")
	require.NoError(t, err)

	st, err := e.Status(ctxTimeout(t), "web")
	require.NoError(t, err)
	require.Len(t, st.Environments, 3)
	assert.Nil(t, st.Environments[1].Approvals, "test has no approvals")
	p := st.Environments[2].Approvals
	require.NotNil(t, p)
	assert.Equal(t, d, p.Digest)
	assert.Empty(t, p.Error)
	assert.Equal(t, 2, p.Required)
	assert.Equal(t, 1, p.Missing)
	require.Len(t, p.Approved, 1)
	assert.Equal(t, "alice", p.Approved[0].Approver)
	assert.Equal(t, "promote approve prod web@"+d+" --key FILE --reason TEXT", p.Command)

	_, err = w.approve(e, bob, "prod", "web@"+d, "bob")
	require.NoError(t, err)
	st, err = e.Status(ctxTimeout(t), "web")
	require.NoError(t, err)
	assert.Zero(t, st.Environments[2].Approvals.Missing)
	assert.Empty(t, st.Environments[2].Approvals.Command)

	w.env("test").Repository = regtest.ClosedPort(t) + "/test/{app}"
	st, err = e.Status(ctxTimeout(t), "web")
	require.NoError(t, err, "an unreadable registry is said in the row")
	p = st.Environments[2].Approvals
	require.NotNil(t, p)
	assert.Contains(t, p.Error, "connection refused")
	assert.Equal(t, d, st.Environments[1].Digest, "the ledger's part stands")
}
