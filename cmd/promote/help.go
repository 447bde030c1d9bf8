package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
)

// helpCommand prints the program's help, or a command's: what --help
// prints. An unknown command is a usage error with a suggestion.
func helpCommand() *cli.Command {
	cmd := command("help", "help [COMMAND [SUBCOMMAND]]", "show the commands, or one command's help")
	cmd.Aliases = []string{"h"}
	cmd.Action = func(c *cli.Context) error {
		names := c.Args().Slice()
		cmds := c.App.Commands
		for i, name := range names {
			found := findCommand(cmds, name)
			switch {
			case found == nil:
				return unknownCommand(cmds, names[:i], name)
			case i < len(names)-1 && len(found.Subcommands) == 0:
				return errs.Usagef("help: %q has no subcommands", strings.Join(names[:i+1], " "))
			}
			cmds = found.Subcommands
		}
		// Every name is a command: run them with --help, which prints
		// their help and runs nothing.
		return c.App.RunContext(c.Context, append(append([]string{c.App.Name}, names...), "--help"))
	}
	return cmd
}

// listSubcommands is the action of a command that only groups others
// (ledger, envs): alone it shows its help; with an unknown subcommand it is
// a usage error.
func listSubcommands(path []string) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			return unknownCommand(c.Command.Subcommands, path, c.Args().First())
		}
		return cli.ShowSubcommandHelp(c)
	}
}

// unknownCommand is the usage error for a command name that names none,
// with urfave/cli's suggestion of the nearest one (suggest).
func unknownCommand(cmds []*cli.Command, path []string, name string) error {
	full := strings.Join(append(append([]string{}, path...), name), " ")
	msg := fmt.Sprintf("unknown command %q", full)
	if s := suggest(cmds, name); s != "" {
		msg += ". " + s
	}
	help := strings.Join(append([]string{"promote"}, path...), " ") + " --help"
	return errs.Usagef("%s (%s lists the commands)", msg, help)
}

// suggest is urfave/cli's suggestion (the nearest name by Jaro-Winkler
// distance) among the commands that begin with the same letter as name: a
// typo rarely changes the first letter, and the nearest of all commands to
// a word that is none of them ("foo" → "to") misleads.
func suggest(cmds []*cli.Command, name string) string {
	if cli.SuggestCommand == nil || name == "" {
		return ""
	}
	var near []*cli.Command
	for _, c := range cmds {
		if !c.Hidden && strings.HasPrefix(c.Name, name[:1]) {
			near = append(near, c)
		}
	}
	if len(near) == 0 {
		return ""
	}
	return cli.SuggestCommand(near, name)
}
