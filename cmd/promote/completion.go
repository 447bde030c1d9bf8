package main

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
)

// The bash and zsh scripts ask the binary for completions
// (--generate-bash-completion, urfave/cli's protocol); fish's is generated
// from the commands and flags by urfave/cli.
var (
	//go:embed completion/promote.bash
	bashCompletion string
	//go:embed completion/promote.zsh
	zshCompletion string
)

// completionFlag ends a command line that asks for completions.
const completionFlag = "--generate-bash-completion"

func completionCommand(s *state) *cli.Command {
	const usage = "completion bash|zsh|fish"
	cmd := command("completion", usage, "print the shell completion script for bash, zsh or fish")
	cmd.Description = `bash:  source <(promote completion bash)      (in ~/.bashrc)
zsh:   source <(promote completion zsh)       (in ~/.zshrc, after compinit)
fish:  promote completion fish > ~/.config/fish/completions/promote.fish`
	cmd.Action = func(c *cli.Context) error {
		s.command = "completion"
		a, err := positional(c, usage, 1, 1)
		if err != nil {
			return err
		}
		script := ""
		switch strings.ToLower(a[0]) {
		case "bash":
			script = bashCompletion
		case "zsh":
			script = zshCompletion
		case "fish":
			if script, err = c.App.ToFishCompletion(); err != nil {
				return fmt.Errorf("generating the fish completion: %w", err)
			}
			// The flags' placeholders (`FILE`) are help markup, not text.
			script = strings.ReplaceAll(script, "`", "")
		default:
			return errs.Usagef("completion %q: expected bash, zsh or fish", a[0])
		}
		_, err = fmt.Fprint(s.stdout, script)
		return err
	}
	return cmd
}
