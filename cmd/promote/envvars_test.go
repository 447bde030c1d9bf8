package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// A variable set for one command does not break another: a command ignores
// the variables of the settings it does not use, and of --output the csv it
// has no form for. A flag with a bad value is a usage error everywhere.
func TestEnvVariablesOnlyForTheCommandsThatUseThem(t *testing.T) {
	c := newCLI(t)
	d := regtest.Push(t, c.reg.Host+"/dev/web:1.0", regtest.Image(t, 1, regtest.Labels("1.0"), "1000"))
	code, _, errOut := c.run("to", "test", "web:1.0")
	require.Equal(t, ExitOK, code, errOut)

	t.Setenv("PROMOTE_OUTPUT", "csv")
	code, out, errOut := c.run("current", "test", "web")
	assert.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, c.reg.Host+"/test/web@"+d.String()+"\n", out, "current has no CSV form: text")
	code, out, _ = c.run("history", "web")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "time,env,app,seq,", "history has")
	code, _, errOut = c.run("current", "test", "web", "--output", "csv")
	assert.Equal(t, ExitUsage, code, "a flag is checked")
	assert.Contains(t, errOut, "--output csv: current has no CSV form")
	code, _, errOut = c.run("to", "test", "web:1.0", "--output", "csv")
	assert.Equal(t, ExitUsage, code, "refused before anything runs: %s", errOut)

	t.Setenv("PROMOTE_OUTPUT", "yaml")
	code, _, errOut = c.run("current", "test", "web")
	assert.Equal(t, ExitUsage, code, "a value no command takes is an error where --output is used")
	assert.Contains(t, errOut, `PROMOTE_OUTPUT "yaml": expected text, json, csv or html`)
	t.Setenv("PROMOTE_OUTPUT", "")

	for _, jobs := range []string{"0", "many"} {
		t.Setenv("PROMOTE_JOBS", jobs)
		code, out, errOut = c.run("history", "web")
		assert.Equal(t, ExitOK, code, "history copies nothing: PROMOTE_JOBS=%s is not its: %s", jobs, errOut)
		assert.Contains(t, out, "promotion")
		code, _, errOut = c.run("current", "test", "web")
		assert.Equal(t, ExitOK, code, errOut)
		code, _, errOut = c.run("to", "test", "web:1.0")
		assert.Equal(t, ExitUsage, code, "to uses it")
		assert.Contains(t, errOut, "PROMOTE_JOBS "+jobs+": expected a number from 1 to 64")
	}
	t.Setenv("PROMOTE_JOBS", "2")
	code, _, errOut = c.run("to", "test", "web:1.0")
	assert.Equal(t, ExitOK, code, errOut)
	code, _, errOut = c.run("history", "--jobs", "0")
	assert.Equal(t, ExitUsage, code, "a flag with a bad value is an error whatever the command")
	assert.Contains(t, errOut, "--jobs 0: expected a number from 1 to 64")
	code, _, errOut = c.run("history", "--jobs", "8")
	assert.Equal(t, ExitOK, code, "a good value history does not use: %s", errOut)

	t.Setenv("PROMOTE_VERBOSE", "maybe")
	code, _, errOut = c.run("history")
	assert.Equal(t, ExitUsage, code, "history logs: PROMOTE_VERBOSE is its")
	assert.Contains(t, errOut, `PROMOTE_VERBOSE "maybe": expected true or false`)
	code, _, errOut = c.run("version")
	assert.Equal(t, ExitOK, code, "version logs nothing: %s", errOut)
	code, _, _ = c.run("help")
	assert.Equal(t, ExitOK, code, "help uses no setting")
}
