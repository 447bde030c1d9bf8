package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// promoteRun runs the command line in-process as typed, with no flags added.
func promoteRun(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = run(context.Background(), append([]string{"promote"}, args...), &out, &errw)
	return code, out.String(), errw.String()
}

func TestUnknownCommandIsAUsageErrorWithASuggestion(t *testing.T) {
	code, out, errOut := promoteRun("rollbak", "prod", "web")
	assert.Equal(t, ExitUsage, code)
	assert.Empty(t, out)
	assert.Equal(t, "promote: usage error: unknown command \"rollbak\". Did you mean \"rollback\"? (promote --help lists the commands)\n", errOut)

	code, _, errOut = promoteRun("xyzzy")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `unknown command "xyzzy"`)
	assert.NotContains(t, errOut, "Did you mean", "no command is near xyzzy")

	code, _, errOut = promoteRun("ledger", "verfy")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `unknown command "ledger verfy". Did you mean "verify"? (promote ledger --help lists the commands)`)

	code, out, _ = promoteRun("--output", "json", "hstory")
	assert.Equal(t, ExitUsage, code)
	doc, _ := decodeDocument(t, out)
	assert.Equal(t, ExitUsage, doc.ExitCode)
	assert.Contains(t, doc.Error, `Did you mean "history"?`)

	code, out, _ = promoteRun("--output", "json", "history", "--no-such-flag")
	assert.Equal(t, ExitUsage, code)
	doc, _ = decodeDocument(t, out)
	assert.Contains(t, doc.Error, "no-such-flag", "a command's bad flag, in JSON too")
}

func TestHelpCommand(t *testing.T) {
	code, out, errOut := promoteRun("help")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "COMMANDS:")
	assert.Contains(t, out, "rollback    re-point ENV")
	assert.Contains(t, out, "completion  print the shell completion script")
	_, flagOut, _ := promoteRun("--help")
	assert.Equal(t, flagOut, out, "help is --help")

	code, out, _ = promoteRun("help", "rollback")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "promote rollback ENV APP [--to DIGEST|RECORD] [--dry-run] [--reason TEXT]")
	assert.Contains(t, out, "--to DIGEST|RECORD ")
	assert.Contains(t, out, "--reason TEXT ")
	_, flagOut, _ = promoteRun("rollback", "--help")
	assert.Equal(t, flagOut, out, "help rollback is rollback --help")

	code, out, _ = promoteRun("help", "ledger", "verify")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "promote ledger verify - check every record, the log and its checkpoints")
	code, out, _ = promoteRun("help", "envs")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "check  report every ECR environment's repository")

	code, _, errOut = promoteRun("help", "rolback")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `Did you mean "rollback"?`)
	code, _, errOut = promoteRun("help", "to", "prod")
	assert.Equal(t, ExitUsage, code, "help runs nothing: %s", errOut)
	assert.Contains(t, errOut, `"to" has no subcommands`)
}

func TestVersionCommand(t *testing.T) {
	code, out, errOut := promoteRun("version")
	require.Equal(t, ExitOK, code, errOut)
	assert.Equal(t, "promote version "+versionString()+"\n", out)
	assert.Contains(t, out, " go1.", "the Go version from the build info")
	_, flagOut, _ := promoteRun("--version")
	assert.Equal(t, flagOut, out, "version is --version")

	code, out, _ = promoteRun("version", "--quiet")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, versionString()+"\n", out)

	code, out, _ = promoteRun("version", "--output", "json")
	doc, res := decodeDocument(t, out)
	require.Equal(t, ExitOK, code, doc.Error)
	assert.Equal(t, "version", doc.Command)
	assert.Equal(t, thisBuild().Go, res["go"])
	assert.NotEmpty(t, res["version"])

	code, _, errOut = promoteRun("version", "extra")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)
}
