package promote

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
