package promote

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/policy"
)

// policyRefused checks that err is one release policy's refusal (exit 3)
// and that the chain's newest record is that refusal, with the reason.
func policyRefused(t *testing.T, w *world, err error, policy, app, env string, wants ...string) ledger.Record {
	t.Helper()
	require.ErrorIs(t, err, errs.ErrGateRejected, "exit 3")
	var pr *errs.PolicyRefusal
	require.ErrorAs(t, err, &pr)
	assert.Equal(t, policy, pr.Policy)
	recs := w.records(ledger.Query{App: app, Env: env, Limit: 1})
	require.Len(t, recs, 1)
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	assert.Contains(t, recs[0].Rejection, "release policy "+policy)
	require.NotEmpty(t, recs[0].Policies)
	last := recs[0].Policies[len(recs[0].Policies)-1]
	assert.Equal(t, policy, last.Name)
	assert.Equal(t, "fail", last.Verdict)
	for _, want := range wants {
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, recs[0].Rejection, want)
	}
	return recs[0]
}

// A freeze of test refuses promotions into test (recorded), not into prod
// and not rollbacks; unfreeze lifts it. A freeze of every environment
// outlives unfreeze of one, which says so.
func TestFreezeRefusesPromotionsUntilLiftedButNotRollbacks(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	w.push("web", "1.0", "1.0")
	w.push("web", "2.0", "2.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)

	_, err = e.Freeze(ctx, ControlRequest{Env: "test"})
	assert.ErrorIs(t, err, errs.ErrUsage, "a freeze needs a reason")
	_, err = e.Freeze(ctx, ControlRequest{Env: "dev", Reason: "x"})
	assert.ErrorContains(t, err, "fed by pushes")
	fr, err := e.Freeze(ctx, ControlRequest{Env: "test", Reason: "incident 42"})
	require.NoError(t, err)
	require.NotNil(t, fr.Record)
	assert.Equal(t, ledger.KindFreeze, fr.Record.Kind)
	again, err := e.Freeze(ctx, ControlRequest{Env: "test", Reason: "again"})
	require.NoError(t, err)
	assert.True(t, again.NothingToDo)
	assert.Equal(t, fr.Record.ID, again.Already.ID)

	_, err = w.promote(e, "test", "web:2.0")
	policyRefused(t, w, err, "freeze", "web", "test", "test is frozen since", "incident 42", "promote unfreeze test")
	assert.NotContains(t, w.tags(w.test("web")), "2.0", "nothing copied")

	_, err = e.Unfreeze(ctx, ControlRequest{Env: "test"})
	require.NoError(t, err)
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err, "unfrozen")

	_, err = e.Freeze(ctx, ControlRequest{All: true, Reason: "holidays"})
	require.NoError(t, err)
	_, err = w.promote(e, "prod", "web")
	policyRefused(t, w, err, "freeze", "web", "prod", "every environment is frozen", "holidays", "promote unfreeze --all")
	_, err = e.Unfreeze(ctx, ControlRequest{Env: "prod"})
	assert.ErrorIs(t, err, errs.ErrUsage)
	assert.ErrorContains(t, err, "promote unfreeze --all lifts that")

	cur, err := e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", Reason: "incident"})
	require.NoError(t, err, "a rollback passes a freeze")
	assert.Equal(t, ledger.KindRollback, cur.Record.Kind)

	res, err := e.Unfreeze(ctx, ControlRequest{All: true})
	require.NoError(t, err)
	assert.NotNil(t, res.Record)
	nothing, err := e.Unfreeze(ctx, ControlRequest{All: true})
	require.NoError(t, err)
	assert.True(t, nothing.NothingToDo)
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	ctl := w.records(ledger.Query{App: ledger.AllApps})
	assert.Len(t, ctl, 4, "freeze, unfreeze, freeze --all, unfreeze --all")
}

// Break-glass passes a freeze or a closed window only where the
// environment allows it, and the promotion record says so.
func TestBreakGlassPassesAFreezeOnlyWhereAllowed(t *testing.T) {
	ctx := context.Background()
	var now atomic.Value
	now.Store(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)) // a Saturday
	w := newWorld(t, withEngineOptions(WithClock(func() time.Time { return now.Load().(time.Time) })))
	e := w.engine()
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	w.push("web", "1.0", "1.0")
	_, err = e.Freeze(ctx, ControlRequest{Env: "test", Reason: "incident"})
	require.NoError(t, err)

	_, err = w.run(e, Request{Env: "test", Ref: w.ref("web:1.0"), BreakGlass: "CVE fix, INC-7"})
	policyRefused(t, w, err, "freeze", "web", "test", "test does not allow break-glass")

	env.BreakGlass = &config.BreakGlass{}
	office, err := policy.ParseWindow("Mon-Fri 09:00-16:00", "", "UTC")
	require.NoError(t, err)
	env.Windows = []policy.Window{office}
	_, err = w.promote(e, "test", "web:1.0")
	policyRefused(t, w, err, "freeze", "web", "test", "or in an emergency --break-glass TEXT")

	res, err := w.run(e, Request{Env: "test", Ref: w.ref("web:1.0"), BreakGlass: "CVE fix, INC-7"})
	require.NoError(t, err)
	assert.Equal(t, "CVE fix, INC-7", res.Record.BreakGlass)
	require.Len(t, res.Record.Policies, 2, "the freeze and the window, each passed by break-glass")
	for _, p := range res.Record.Policies {
		assert.Equal(t, "pass", p.Verdict)
		assert.Contains(t, p.Reason, "BREAK-GLASS")
		assert.Equal(t, "CVE fix, INC-7", p.Evidence["breakGlass"])
	}
	assert.Contains(t, w.tags(w.test("web")), "1.0")
}

// A revoked digest is refused by promotion and rollback everywhere, and so
// is an index holding it; unrevoke lifts it.
func TestRevokedDigestIsRefusedByPromotionAndRollback(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	d1 := w.push("web", "1.0", "1.0")
	w.push("web", "2.0", "2.0")
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	_, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	_, err = w.promote(e, "test", "web:2.0")
	require.NoError(t, err)

	ref := Ref{App: "web", Digest: d1.String()}
	_, err = e.Revoke(ctx, ControlRequest{Ref: ref})
	assert.ErrorIs(t, err, errs.ErrUsage, "a reason is required")
	_, err = e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Tag: "1.0"}, Reason: "x"})
	assert.ErrorIs(t, err, errs.ErrUsage, "a tag is not content")
	rv, err := e.Revoke(ctx, ControlRequest{Ref: ref, Reason: "CVE-2026-1 in libfoo"})
	require.NoError(t, err)
	assert.Equal(t, []string{"prod"}, rv.Running, "prod runs it")
	again, err := e.Revoke(ctx, ControlRequest{Ref: ref, Reason: "again"})
	require.NoError(t, err)
	assert.True(t, again.NothingToDo)

	_, err = w.promote(e, "test", "web@"+d1.String())
	policyRefused(t, w, err, "revocation", "web", "test", "is revoked", "CVE-2026-1 in libfoo", "promote unrevoke web@"+d1.String())
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", Reason: "bad 2.0"})
	rec := policyRefused(t, w, err, "revocation", "web", "test", "is revoked")
	assert.Equal(t, d1.String(), rec.Digest)
	cur, err := e.Current(ctx, "test", "web")
	require.NoError(t, err)
	assert.NotEqual(t, d1.String(), cur.Digest, "the rollback moved nothing")

	_, err = e.Unrevoke(ctx, ControlRequest{Ref: ref, Reason: "false positive"})
	require.NoError(t, err)
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", Reason: "bad 2.0"})
	require.NoError(t, err, "unrevoked")
}

// An index wrapping a revoked image has a digest of its own, never
// revoked: it is refused all the same, for the image the copy would write.
func TestIndexHoldingARevokedImageIsRefused(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	idx := regtest.Index(t, regtest.Labels("2.0"), "1000")
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	regtest.Push(t, w.dev("web")+":2.0", idx)
	child := im.Manifests[0].Digest.String()
	_, err = e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: child}, Reason: "backdoored base"})
	require.NoError(t, err)

	_, err = w.promote(e, "test", "web:2.0")
	policyRefused(t, w, err, "revocation", "web", "test", "holds "+child+", which is revoked", "backdoored base")
	assert.Empty(t, w.tags(w.test("web")), "nothing copied")
}

// The promotion attestation carries the release policies' verdicts and the
// break-glass that passed a freeze, signed, for admission to act on.
func TestAttestationCarriesPoliciesAndBreakGlass(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	test := w.env("test")
	test.Attest = testAttestKey(t)
	test.BreakGlass = &config.BreakGlass{}
	d := w.push("web", "1.0", "1.0")
	_, err := e.Freeze(ctx, ControlRequest{Env: "test", Reason: "incident"})
	require.NoError(t, err)
	res, err := w.run(e, Request{Env: "test", Ref: w.ref("web:1.0"), BreakGlass: "hotfix INC-9"})
	require.NoError(t, err)
	require.NotEmpty(t, res.Attestation)
	p := readAttestation(t, w.test("web"), d, res.Record.Hash)
	assert.Equal(t, "hotfix INC-9", p.BreakGlass)
	require.Len(t, p.Policies, 1)
	assert.Equal(t, "freeze", p.Policies[0].Name)
	assert.Equal(t, "pass", p.Policies[0].Verdict)
	assert.Contains(t, p.Policies[0].Reason, "passed by break-glass: hotfix INC-9")
}

// A revocation covers what its digest holds: the revoked image re-wrapped
// in a new manifest (same config and layers, a new digest) is refused, and
// so is a rollback to a nested index holding a revoked image.
func TestRevocationCoversRewrappedImagesAndNestedIndexes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	img := regtest.Image(t, 2, regtest.Labels("1.0"), "1000")
	d1 := regtest.Push(t, w.dev("web")+":1.0", img)
	_, err := e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: d1.String()}, Reason: "backdoor in layer 2"})
	require.NoError(t, err)
	wrapped := mutate.Annotations(img, map[string]string{"x": "y"}).(v1.Image)
	regtest.Push(t, w.dev("web")+":1.0-again", wrapped)
	cfg, err := img.ConfigName()
	require.NoError(t, err)
	_, err = w.promote(e, "test", "web:1.0-again")
	policyRefused(t, w, err, "revocation", "web", "test", "holds "+cfg.String()+", which the revocation of web@"+d1.String()+" covers")

	// outer index -> inner index -> images, promoted; then 2.0; then one leaf revoked
	inner := regtest.Index(t, regtest.Labels("3.0"), "1000")
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})
	dOuter := regtest.Push(t, w.dev("web")+":3.0", outer)
	_, err = w.promote(e, "test", "web:3.0")
	require.NoError(t, err)
	w.push("web", "4.0", "4.0")
	_, err = w.promote(e, "test", "web:4.0")
	require.NoError(t, err)
	im, err := inner.IndexManifest()
	require.NoError(t, err)
	leaf := im.Manifests[0].Digest.String()
	_, err = e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: leaf}, Reason: "bad arm64 build"})
	require.NoError(t, err)
	_, err = e.Rollback(ctx, RollbackRequest{Env: "test", App: "web", To: dOuter.String()})
	policyRefused(t, w, err, "revocation", "web", "test", "holds "+leaf+", which is revoked")
}

// Status and revoke name an environment running an index that holds a
// revoked platform image, not only one running the revoked digest itself.
func TestStatusNamesAnIndexHoldingARevokedImage(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	idx := regtest.Index(t, regtest.Labels("2.0"), "1000")
	regtest.Push(t, w.dev("web")+":2.0", idx)
	_, err := w.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	rv, err := e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: im.Manifests[1].Digest.String()}, Reason: "bad arm64"})
	require.NoError(t, err)
	assert.Equal(t, []string{"test"}, rv.Running)
	st, err := e.Status(ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, []string{"test"}, st.RunningRevoked)
	assert.Empty(t, st.Unchecked)
}
