package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for promote when a test runs it
// with PROMOTE_TEST_AS_BINARY=1 (the bash completion test does, from bash).
func TestMain(m *testing.M) {
	if os.Getenv("PROMOTE_TEST_AS_BINARY") == "1" {
		os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// urfave/cli's completion reads the word being completed from os.Args, not
// from the arguments it is run with, so completeRun sets both.
func completeRun(t *testing.T, args ...string) (int, string, string) {
	saved := os.Args
	t.Cleanup(func() { os.Args = saved })
	os.Args = append([]string{"promote"}, args...)
	return promoteRun(args...)
}

func TestCompletionProtocolListsCommands(t *testing.T) {
	code, out, _ := completeRun(t, "--generate-bash-completion")
	require.Equal(t, ExitOK, code)
	var names []string
	for _, c := range newApp(&state{}).Commands {
		names = append(names, c.Names()...)
	}
	assert.Equal(t, names, strings.Fields(out))
	assert.Subset(t, names, []string{"to", "rollback", "history", "ledger", "version", "completion", "help"})
	code, out, _ = completeRun(t, "ledger", "--generate-bash-completion")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, []string{"copy", "check", "verify", "checkpoint", "prove", "key", "upgrade", "publish"}, strings.Fields(out))
	code, out, errOut := completeRun(t, "to", "prod", "web", "--generate-bash-completion")
	assert.Equal(t, ExitOK, code, "completing runs nothing: %s", errOut)
	assert.Empty(t, out)
}

func TestCompletionScripts(t *testing.T) {
	code, out, _ := promoteRun("completion", "bash")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, bashCompletion, out)
	assert.Contains(t, out, "complete -o bashdefault -o default -F _promote_complete promote")

	code, out, _ = promoteRun("completion", "zsh")
	require.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(out, "#compdef promote\n"), out)
	assert.Contains(t, out, "--generate-bash-completion")

	code, out, _ = promoteRun("completion", "fish")
	require.Equal(t, ExitOK, code)
	for _, name := range []string{"to", "rollback", "current", "history", "ledger", "version", "completion"} {
		assert.Contains(t, out, "-n '__fish_promote_no_subcommand' -a '"+name+"'", name)
	}
	assert.Contains(t, out, "-n '__fish_seen_subcommand_from rollback' -f -l reason -r", "rollback's flags")
	assert.NotContains(t, out, "`", "placeholders' backticks are help markup, not description text")

	code, _, errOut := promoteRun("completion", "tcsh")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "expected bash, zsh or fish")
	t.Setenv("PROMOTE_OUTPUT", "yaml")
	t.Setenv("PROMOTE_JOBS", "0")
	code, _, errOut = promoteRun("completion", "bash")
	assert.Equal(t, ExitOK, code, "completion uses no global setting: %s", errOut)
}

// The bash script, sourced into a real bash, completes by asking the
// binary: commands, subcommands and a command's flags.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "promote"),
		[]byte("#!/bin/sh\nPROMOTE_TEST_AS_BINARY=1 exec '"+self+"' \"$@\"\n"), 0o755))
	script := filepath.Join(dir, "promote.bash")
	require.NoError(t, os.WriteFile(script, []byte(bashCompletion), 0o644))
	complete := func(words ...string) []string {
		t.Helper()
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1"; COMP_WORDS=(`+strings.Join(quoted, " ")+
			`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _promote_complete; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.Fields(string(out))
	}
	assert.Equal(t, []string{"rollback"}, complete("promote", "rol"))
	assert.Equal(t, []string{"copy", "check", "verify", "checkpoint", "prove", "key", "upgrade", "publish"}, complete("promote", "ledger", ""))
	assert.Equal(t, []string{"check"}, complete("promote", "envs", "ch"))
	assert.Equal(t, []string{"--reason"}, complete("promote", "rollback", "--re"))
	assert.Contains(t, complete("promote", ""), "completion")
}
