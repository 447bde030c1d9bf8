package ledger

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A record written before the actor said how each identity was established
// reads back byte for byte, so its hash, and every hash chained after it,
// still checks out.
func TestActorFieldsKeepOldRecordHashes(t *testing.T) {
	old := `{"mediaType":"application/vnd.promote.record.v1+json","id":"r-01","seq":1,"time":"2026-01-02T03:04:05Z",` +
		`"kind":"promotion","app":"web","env":"prod","repository":"registry.example/prod/web",` +
		`"digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",` +
		`"source":{"given":"web","resolved":"registry.example/test/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},` +
		`"actor":{"identity":"github:octo","user":"runner","host":"fv-az1","aws":"arn:aws:iam::111111111111:user/ci"},"prev_hash":""}`
	var r Record
	require.NoError(t, json.Unmarshal([]byte(old), &r))
	body, err := r.Body()
	require.NoError(t, err)
	assert.Equal(t, old, string(body))
	assert.Empty(t, r.Actor.IdentityVia+r.Actor.UserVia+r.Actor.AWSVia, "an old record does not say; nothing is invented")

	r.Actor.IdentityVia, r.Actor.UserVia, r.Actor.AWSVia = ViaCIEnv, ViaOSUser, ViaAWSSTS
	body, err = r.Body()
	require.NoError(t, err)
	assert.Contains(t, string(body), `"actor":{"identity":"github:octo","identityVia":"ci-env","user":"runner","userVia":"os-user","host":"fv-az1","aws":"arn:aws:iam::111111111111:user/ci","awsVia":"aws-sts"}`)
	var back Record
	require.NoError(t, json.Unmarshal(body, &back))
	again, err := back.Body()
	require.NoError(t, err)
	assert.Equal(t, string(body), string(again), "a new record round-trips byte for byte")
}
