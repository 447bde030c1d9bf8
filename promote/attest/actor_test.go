package attest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The predicate says how each identity of the actor was established, so an
// admission policy can rely on the authenticated one (aws, via aws-sts)
// and treat the asserted ones (ci-env, os-user) as such.
func TestStatementActorSaysHowEachIdentityWasEstablished(t *testing.T) {
	p := promotion("registry.example/prod/web", testDigest)
	p.Actor = Actor{Identity: "github:octocat", IdentityVia: "ci-env", User: "runner", UserVia: "os-user", Host: "fv-az123-456",
		AWS: "arn:aws:sts::222222222222:assumed-role/promoter/promote", AWSVia: "aws-sts"}
	st, err := BuildStatement(p)
	require.NoError(t, err)
	payload, err := st.Payload()
	require.NoError(t, err)
	var doc struct {
		Predicate struct {
			Actor map[string]string `json:"actor"`
		} `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(payload, &doc))
	assert.Equal(t, map[string]string{"identity": "github:octocat", "identityVia": "ci-env", "user": "runner", "userVia": "os-user",
		"host": "fv-az123-456", "aws": "arn:aws:sts::222222222222:assumed-role/promoter/promote", "awsVia": "aws-sts"}, doc.Predicate.Actor)
}
