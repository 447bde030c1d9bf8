package promote

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/ledger"
)

func TestDetectActor(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		identity string
		provider string
		commit   string
	}{
		{"github", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo", "GITHUB_REPOSITORY": "acme/web",
			"GITHUB_WORKFLOW": "release", "GITHUB_SHA": "abc", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "7",
			"GITHUB_TOKEN": "ghs_secret"}, "github:octo", "github-actions", "abc"},
		{"gitlab", map[string]string{"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "dev", "CI_COMMIT_SHA": "def", "CI_JOB_TOKEN": "glcbt-secret"},
			"gitlab:dev", "gitlab-ci", "def"},
		{"codebuild", map[string]string{"CODEBUILD_BUILD_ID": "p:1", "CODEBUILD_INITIATOR": "codepipeline/rel", "CODEBUILD_RESOLVED_SOURCE_VERSION": "123"},
			"codebuild:codepipeline/rel", "aws-codebuild", "123"},
		{"jenkins", map[string]string{"JENKINS_URL": "http://j", "BUILD_USER_ID": "ops", "GIT_COMMIT": "999"}, "jenkins:ops", "jenkins", "999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, ci := DetectActor(func(k string) string { return c.env[k] })
			assert.Equal(t, c.identity, a.Identity)
			if assert.NotNil(t, ci) {
				assert.Equal(t, c.provider, ci.Provider)
				assert.Equal(t, c.commit, ci.Commit)
				assert.NotContains(t, ci.URL+ci.Pipeline+ci.Job, "secret", "tokens are never read")
			}
		})
	}
	a, ci := DetectActor(func(string) string { return "" })
	assert.Nil(t, ci)
	assert.NotEmpty(t, a.Host)
}

// Each identity says how it was established: the CI identity and the user
// are only asserted (anyone who controls the environment sets them); the
// AWS caller identity, set later from STS, is the one authenticated.
func TestDetectActorSaysHowEachIdentityWasEstablished(t *testing.T) {
	a, _ := DetectActor(func(k string) string {
		return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo"}[k]
	})
	assert.Equal(t, "github:octo", a.Identity)
	assert.Equal(t, ledger.ViaCIEnv, a.IdentityVia)
	assert.Equal(t, ledger.ViaOSUser, a.UserVia)
	assert.Empty(t, a.AWSVia, "no AWS identity yet")

	a, _ = DetectActor(func(string) string { return "" })
	if a.User != "" {
		assert.Equal(t, ledger.ViaOSUser, a.IdentityVia, "user@host is the OS account's word")
		assert.Equal(t, ledger.ViaOSUser, a.UserVia)
	}
	assert.False(t, ledger.Authenticated(ledger.ViaCIEnv))
	assert.False(t, ledger.Authenticated(ledger.ViaOSUser))
	assert.True(t, ledger.Authenticated(ledger.ViaAWSSTS))
}

// The promotion attestation carries the actor with how each identity was
// established, AWS included.
func TestActorInPromotionAttestation(t *testing.T) {
	r := &ledger.Record{Env: "prod", App: "web", Actor: ledger.Actor{
		Identity: "github:octo", IdentityVia: ledger.ViaCIEnv, User: "runner", UserVia: ledger.ViaOSUser, Host: "fv-az1",
		AWS: "arn:aws:sts::222222222222:assumed-role/promoter/promote", AWSVia: ledger.ViaAWSSTS}}
	got := promotionOf(r).Actor
	assert.Equal(t, attest.Actor{Identity: "github:octo", IdentityVia: "ci-env", User: "runner", UserVia: "os-user", Host: "fv-az1",
		AWS: "arn:aws:sts::222222222222:assumed-role/promoter/promote", AWSVia: "aws-sts"}, got)
}
