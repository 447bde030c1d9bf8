package promote

import (
	"os"
	"os/user"

	"github.com/promote-dev/promote/promote/ledger"
)

var envLookup = os.Getenv

// DetectActor names who is promoting from the CI system's own variables
// (GitHub Actions, GitLab CI, AWS CodeBuild, Jenkins), else the local user
// and host. It reads identities only, never tokens. None of them is
// authenticated: anyone who can set the variables or run as the user
// asserts them, and the actor says so (ViaCIEnv, ViaOSUser).
func DetectActor(get func(string) string) (ledger.Actor, *ledger.CI) {
	a, ci := detectActor(get)
	if a.Identity != "" {
		a.IdentityVia = ledger.ViaCIEnv
		if ci == nil {
			a.IdentityVia = ledger.ViaOSUser
		}
	}
	if a.User != "" || a.Host != "" {
		a.UserVia = ledger.ViaOSUser
	}
	return a, ci
}

func detectActor(get func(string) string) (ledger.Actor, *ledger.CI) {
	host, _ := os.Hostname()
	a := ledger.Actor{Host: host}
	if u, err := user.Current(); err == nil {
		a.User = u.Username
	}
	switch {
	case get("GITHUB_ACTIONS") == "true":
		a.Identity = "github:" + get("GITHUB_ACTOR")
		ci := &ledger.CI{Provider: "github-actions", Pipeline: get("GITHUB_REPOSITORY") + "/" + get("GITHUB_WORKFLOW"),
			Job: get("GITHUB_JOB"), Commit: get("GITHUB_SHA")}
		if s, r, id := get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID"); s != "" && r != "" && id != "" {
			ci.URL = s + "/" + r + "/actions/runs/" + id
		}
		return a, ci
	case get("GITLAB_CI") == "true":
		a.Identity = "gitlab:" + get("GITLAB_USER_LOGIN")
		return a, &ledger.CI{Provider: "gitlab-ci", Pipeline: get("CI_PROJECT_PATH") + "#" + get("CI_PIPELINE_ID"),
			Job: get("CI_JOB_NAME") + "#" + get("CI_JOB_ID"), Commit: get("CI_COMMIT_SHA"), URL: get("CI_JOB_URL")}
	case get("CODEBUILD_BUILD_ID") != "":
		a.Identity = "codebuild:" + get("CODEBUILD_INITIATOR")
		return a, &ledger.CI{Provider: "aws-codebuild", Pipeline: get("CODEBUILD_BUILD_ID"),
			Commit: get("CODEBUILD_RESOLVED_SOURCE_VERSION"), URL: get("CODEBUILD_BUILD_URL")}
	case get("JENKINS_URL") != "":
		a.Identity = "jenkins:" + get("BUILD_USER_ID")
		return a, &ledger.CI{Provider: "jenkins", Pipeline: get("JOB_NAME"), Job: get("BUILD_NUMBER"),
			Commit: get("GIT_COMMIT"), URL: get("BUILD_URL")}
	}
	if a.User != "" {
		a.Identity = a.User + "@" + host
	}
	return a, nil
}
