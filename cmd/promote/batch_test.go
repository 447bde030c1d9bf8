package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

func TestBatchPromotesEachAppOnItsOwn(t *testing.T) {
	c := newCLI(t)
	apps := []string{"a1", "a2", "a3", "a4", "a5"}
	digests := map[string]string{}
	for i, app := range apps {
		user := "1000"
		if app == "a3" {
			user = "root" // the nonroot gate refuses this one
		}
		d := regtest.Push(t, fmt.Sprintf("%s/dev/%s:1.0", c.reg.Host, app), regtest.Image(t, 1+i%2, regtest.Labels("1.0"), user))
		digests[app] = d.String()
	}
	args := []string{"to", "test", "--jobs", "3"}
	for _, app := range apps {
		args = append(args, app+":1.0")
	}
	code, doc, res := c.runJSON(args...)
	assert.Equal(t, ExitRejected, code, "the most serious failure decides the exit: a rejection")
	assert.Contains(t, doc.Error, "1 of 5 promotions failed")
	assert.EqualValues(t, 4, res["done"])
	assert.EqualValues(t, 1, res["failed"])
	proms := res["promotions"].([]any)
	require.Len(t, proms, 5)
	for i, app := range apps {
		p := proms[i].(map[string]any)
		assert.Equal(t, app+":1.0", p["source"], "in the order given")
		if app == "a3" {
			assert.Equal(t, false, p["ok"])
			assert.EqualValues(t, ExitRejected, p["exitCode"])
			assert.Contains(t, p["error"], "nonroot")
			code, _, _ := c.run("current", "test", app)
			assert.NotEqual(t, ExitOK, code, "the rejected app has nothing in test")
			continue
		}
		assert.Equal(t, true, p["ok"], p["error"])
		assert.Equal(t, digests[app], p["result"].(map[string]any)["digest"])
		code, out, _ := c.run("current", "test", app)
		assert.Equal(t, ExitOK, code)
		assert.Equal(t, c.reg.Host+"/test/"+app+"@"+digests[app]+"\n", out)
	}

	// Again: the four promoted are nothing to do, a3 still refused; text output.
	code, out, _ := c.run(args...)
	assert.Equal(t, ExitRejected, code)
	assert.Contains(t, out, "nothing to do: test already holds a1@")
	assert.Contains(t, out, "4 promoted or already there, 1 failed, of 5")
}

func TestBatchUsageErrorsChangeNothing(t *testing.T) {
	c := newCLI(t)
	regtest.Push(t, c.reg.Host+"/dev/b1:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	regtest.Push(t, c.reg.Host+"/dev/b2:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"to", "test", "b1:1.0", "b2:1.0", "--tag", "x"}, "--tag names the tags of one image"},
		{[]string{"to", "test", "b1:1.0", "b1:2.0"}, "name the same app b1"},
		{[]string{"to", "test", "b1:1.0", "B2:1.0"}, "B2:1.0"},
		{[]string{"to", "test", "b1:1.0", "b2:1.0", "--scan-report", "r.json"}, "--scan-report with several APPs"},
	} {
		code, _, errOut := c.run(tc.args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want)
	}
	for _, app := range []string{"b1", "b2"} {
		code, _, _ := c.run("current", "test", app)
		assert.NotEqual(t, ExitOK, code, "%s: nothing promoted", app)
	}
}
