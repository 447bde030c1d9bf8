package attest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/sigverify"
)

func approval(repo, digest string) Approval {
	return Approval{Environment: "prod", App: "web", Approver: "alice", Reason: "CAB-1234 reviewed",
		Repository: repo, Digest: digest, Time: time.Date(2026, 11, 24, 9, 30, 0, 123, time.FixedZone("CET", 3600))}
}

// The approval statement carries what the approvals phase counts (the
// environment, a time cosign users can write by hand) in the predicate
// cosign puts a --predicate file in.
func TestApprovalStatement(t *testing.T) {
	st, err := BuildApproval(approval("registry.example/test/web", testDigest))
	require.NoError(t, err)
	payload, err := st.Payload()
	require.NoError(t, err)
	assert.JSONEq(t, `{"_type": "https://in-toto.io/Statement/v1",
		"subject": [{"name": "registry.example/test/web", "digest": {"sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}],
		"predicateType": "https://promote.dev/attestation/approval/v1",
		"predicate": {"environment": "prod", "app": "web", "approver": "alice", "reason": "CAB-1234 reviewed", "time": "2026-11-24T08:30:00Z"}}`, string(payload))

	for _, tc := range []struct {
		edit func(a *Approval)
		want string
	}{
		{func(a *Approval) { a.Reason = " " }, "lacks reason"},
		{func(a *Approval) { a.Approver, a.Environment = "", "" }, "lacks environment, approver"},
		{func(a *Approval) { a.Time = time.Time{} }, "lacks time"},
		{func(a *Approval) { a.Digest = "sha512:00" }, "not a sha256 digest"},
	} {
		a := approval("registry.example/test/web", testDigest)
		tc.edit(&a)
		_, err := BuildApproval(a)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err = ApprovalStatement{Type: StatementType, PredicateType: PredicateType}.Payload()
	assert.ErrorContains(t, err, "not an approval statement")
}

// An approval is signed and attached as a promotion attestation is, and
// verifies as an attestation of the approval predicate type.
func TestAttestApproval(t *testing.T) {
	ctx := context.Background()
	r := regtest.New(t, regtest.WithoutReferrersAPI())
	repoName := r.Host + "/test/web"
	d := regtest.Push(t, repoName+":1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "65532"))
	reg := newClient(t)
	repo, err := reg.Repository(repoName)
	require.NoError(t, err)
	st, err := BuildApproval(approval(repo.Name(), d.String()))
	require.NoError(t, err)
	s := fixtureSigner(t)

	ref, err := s.AttestApproval(ctx, reg, repo, st)
	require.NoError(t, err)
	refs, err := reg.Referrers(ctx, repo, d)
	require.NoError(t, err)
	require.Len(t, refs, 1)
	assert.Equal(t, ref, refs[0].Digest)
	assert.Equal(t, ApprovalPredicateType, refs[0].Annotations[AnnotationPredicateType])
	found, err := Attached(ctx, reg, repo, d, "")
	require.NoError(t, err)
	assert.Empty(t, found, "an approval is not a promotion attestation")

	m := referrer(t, reg, repo, ref)
	assert.Equal(t, map[string]string{AnnotationCreated: "2026-11-24T08:30:00Z", AnnotationContent: "dsse-envelope",
		AnnotationPredicateType: ApprovalPredicateType, AnnotationEnvironment: "prod", AnnotationApprover: "alice"}, m.Annotations)
	raw, err := reg.FetchBlob(ctx, repo, m.Layers[0], 1<<20)
	require.NoError(t, err)
	v, err := sigverify.New(sigverify.WithKeys(s.Key()))
	require.NoError(t, err)
	res, err := v.VerifyAttestationBundle(raw, d)
	require.NoError(t, err)
	assert.Equal(t, ApprovalPredicateType, res.Statement.PredicateType)
	var p ApprovalPredicate
	require.NoError(t, json.Unmarshal(res.Statement.Predicate, &p))
	assert.Equal(t, "prod", p.Environment)

	other := approval("registry.example/elsewhere/web", d.String())
	st, err = BuildApproval(other)
	require.NoError(t, err)
	_, err = s.AttestApproval(ctx, reg, repo, st)
	assert.ErrorContains(t, err, "names registry.example/elsewhere/web")
}
