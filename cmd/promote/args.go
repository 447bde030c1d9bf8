package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs lets flags come before or after positional arguments, as
// the command-line contract promises (urfave/cli v2 stops parsing flags at
// the first positional argument). Global flags found after the command name
// move before it; the command's own flags move before its positionals,
// which follow a "--" so that none of them is read as a flag. Unknown flags
// stay where urfave/cli will reject them.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	globals := flagSet(app.Flags)
	var head, path, cmdFlags, pos []string
	i := 1
	// Leading global flags.
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--"; i++ {
		head = append(head, args[i])
		if takesValue(globals, args[i]) && i+1 < len(args) {
			i++
			head = append(head, args[i])
		}
	}
	cmds := app.Commands
	var local map[string]bool
	for ; i < len(args); i++ {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		path = append(path, args[i])
		local = flagSet(c.Flags)
		cmds = c.Subcommands
		if len(cmds) == 0 {
			i++
			break
		}
	}
	if local == nil {
		return args
	}
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			into := &cmdFlags
			vals := local
			if _, isLocal := local[flagName(a)]; !isLocal {
				if _, isGlobal := globals[flagName(a)]; isGlobal {
					into, vals = &head, globals
				}
			}
			*into = append(*into, a)
			if takesValue(vals, a) && i+1 < len(args) {
				i++
				*into = append(*into, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append([]string{args[0]}, head...)
	out = append(out, path...)
	out = append(out, cmdFlags...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// flagSet maps every name of every flag to whether it takes a value.
func flagSet(flags []cli.Flag) map[string]bool {
	m := map[string]bool{"help": false, "h": false}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

func flagName(a string) string {
	n := strings.TrimLeft(a, "-")
	if i := strings.IndexByte(n, '='); i >= 0 {
		n = n[:i]
	}
	return n
}

func takesValue(set map[string]bool, a string) bool {
	return !strings.Contains(a, "=") && set[flagName(a)]
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
