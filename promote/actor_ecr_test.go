package promote

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/promote/ledger"
)

// In ECR the record names the AWS caller identity as authenticated by STS,
// on a promotion and on a rejected attempt alike, and the ledger keeps it
// under the record's hash.
func TestActorAWSIdentityEstablishedBySTS(t *testing.T) {
	w := newECRWorld(t)
	ctx := context.Background()
	w.push(t, "1.0", ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0002", Severity: "MEDIUM"}}})
	res, err := w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::111111111111:user/ecremu", res.Record.Actor.AWS)
	assert.Equal(t, ledger.ViaAWSSTS, res.Record.Actor.AWSVia)

	w.push(t, "1.1", ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0001", Severity: "CRITICAL"}}})
	res, err = w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.1"}})
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Equal(t, ledger.ViaAWSSTS, res.Record.Actor.AWSVia, "a rejected attempt says so too")

	body, err := res.Record.Body()
	require.NoError(t, err)
	assert.Contains(t, string(body), `"awsVia":"aws-sts"`)
	assert.Equal(t, res.Record.Hash, ledger.HashBody(body), "the hash covers how the identity was established")
}
