package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
)

// run executes the promote command line with args (args[0] is the program
// name) and returns the exit code. It writes only to stdout and stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	st := &state{stdout: stdout, stderr: stderr}
	app := newApp(st)
	if len(args) < 2 || args[len(args)-1] != completionFlag {
		args = normalizeArgs(app, args)
	}
	err := interrupted(ctx, app.RunContext(ctx, args))
	if err != nil && !st.rendered {
		st.fail(err)
	}
	return exitCode(err)
}

func newApp(st *state) *cli.App {
	app := &cli.App{
		Name:    "promote",
		Usage:   "move container images through environments by digest, behind gates, with a hash-chained ledger",
		Version: versionString(),
		Description: `promote copies one digest from an environment's "from" repository into its own,
after that environment's gates pass, and records the promotion in a ledger.

Exit codes: 0 done or nothing to do; 1 error (registry, network, I/O, ledger);
2 usage or configuration error; 3 a gate rejected the image; 4 conflict (an
immutable tag names another digest, the promotion path is violated, the
ledger head kept moving, or the ledger lock was lost).

Flags may come before or after positional arguments. A variable sets a
global flag only for the commands that use it (see docs/cli.md).`,
		UsageText:            globalUsage,
		Writer:               st.stdout,
		ErrWriter:            st.stderr,
		Flags:                globalFlags(),
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         usageError,
		Before: func(c *cli.Context) error {
			// Until a command resolves the settings it uses, an error
			// (an unknown command, a bad flag of a command) follows --output.
			if out, err := output(c, ""); err == nil {
				st.json = out == "json"
			}
			return checkFlags(c)
		},
		Action: func(c *cli.Context) error {
			if !c.Args().Present() {
				return cli.ShowAppHelp(c)
			}
			return unknownCommand(c.App.Commands, nil, c.Args().First())
		},
		Commands: []*cli.Command{
			toCommand(st),
			rollbackCommand(st),
			approveCommand(st),
			freezeCommand(st),
			unfreezeCommand(st),
			revokeCommand(st),
			unrevokeCommand(st),
			currentCommand(st),
			statusCommand(st),
			reportCommand(st),
			historyCommand(st),
			showCommand(st),
			gatesCommand(st),
			ledgerCommand(st),
			policyCommand(st),
			envsCommand(st),
			configCommand(st),
			versionCommand(st),
			completionCommand(st),
			helpCommand(),
		},
	}
	// urfave/cli adds --help only when it adds its own help command.
	app.Flags = append(app.Flags, cli.HelpFlag)
	for _, c := range app.Commands {
		prepare(st, c, nil)
	}
	return app
}

// prepare gives every command the usage error handler; a command that runs
// resolves the global settings it uses first (configure); one that groups
// others lists them, and names an unknown one as a usage error.
func prepare(st *state, c *cli.Command, parent []string) {
	path := append(append([]string{}, parent...), c.Name)
	name := strings.Join(path, " ")
	c.OnUsageError = usageError
	c.HideHelpCommand = true // promote help COMMAND, not promote COMMAND help
	if len(parent) > 0 {
		c.HelpName = "promote " + name // as urfave/cli names it once its parent runs; help needs it before
	}
	switch {
	case len(c.Subcommands) > 0 && c.Action == nil:
		c.Action = listSubcommands(path)
	case name == "completion" || name == "help":
	default:
		c.Before = func(ctx *cli.Context) error { return st.configure(ctx, name) }
	}
	for _, s := range c.Subcommands {
		prepare(st, s, path)
	}
}

func usageError(_ *cli.Context, err error, _ bool) error {
	return fmt.Errorf("%w: %v (see --help)", errs.ErrUsage, err)
}

// globalUsage is the usage line of the global flags; flags_test checks
// their placeholders against it.
const globalUsage = "promote [--config FILE] [--output text|json|csv|html] [--quiet | --verbose] [--jobs N] [--insecure-registry HOST[:PORT]]... COMMAND [ARGUMENTS]"

// globalFlags declares the global flags. Only --config reads its variable
// through urfave/cli (a path checks nothing); the others' variables are
// read by the commands that use them (globals.go).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "environments.yaml", EnvVars: []string{"PROMOTE_CONFIG"},
			Usage: "environments file `FILE`"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text",
			Usage: "output as `text|json|csv|html` (json: exactly one document on stdout, logs on stderr; csv: history and report; html: report) [$PROMOTE_OUTPUT]"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"},
			Usage: "print only the result (what a promotion or rollback leaves running: REPOSITORY@DIGEST) or the error; no warnings [$PROMOTE_QUIET]"},
		&cli.BoolFlag{Name: "verbose", Usage: "log progress to stderr [$PROMOTE_VERBOSE]"},
		&cli.IntFlag{Name: "jobs", Value: 4,
			Usage: "`N` blobs streamed at once (small requests: up to 4×N), and with several APPs, promotions at a time (1 to 64) [$PROMOTE_JOBS]"},
		&cli.StringSliceFlag{Name: "insecure-registry",
			Usage: "registry `HOST[:PORT]` that may be reached over plain HTTP (repeatable; a host alone covers every port; comma-separated in the variable); every other registry, loopback included, over verified TLS [$PROMOTE_INSECURE_REGISTRY]"},
	}
}

// positional returns exactly n positional arguments or a usage error naming
// what was expected and what was extra.
func positional(c *cli.Context, usage string, min, max int) ([]string, error) {
	a := c.Args().Slice()
	if len(a) < min {
		return nil, errs.Usagef("%s: missing arguments; usage: promote %s", c.Command.Name, usage)
	}
	if len(a) > max {
		return nil, errs.Usagef("%s: unexpected argument %q; usage: promote %s", c.Command.Name, a[max], usage)
	}
	return a, nil
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelWarn
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl, ReplaceAttr: redactAttr}))
}
