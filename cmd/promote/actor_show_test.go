package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// show says how each identity of the actor was established, and that the
// CI identity is only asserted; --output json carries the same fields.
func TestShowSaysHowTheActorWasEstablished(t *testing.T) {
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo", "GITLAB_CI": "", "CODEBUILD_BUILD_ID": "", "JENKINS_URL": ""} {
		t.Setenv(k, v)
	}
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, doc, res := c.runJSON("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, doc.Error)
	rec := res["record"].(map[string]any)
	actor := rec["actor"].(map[string]any)
	assert.Equal(t, "github:octo", actor["identity"])
	assert.Equal(t, "ci-env", actor["identityVia"])
	assert.Equal(t, "os-user", actor["userVia"])

	code, out, errOut := c.run("show", rec["id"].(string))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "github:octo (ci-env: asserted, not authenticated)")
	assert.Contains(t, out, "on "+hostname(t)+" (os-user: asserted, not authenticated)")
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	require.NoError(t, err)
	return h
}
