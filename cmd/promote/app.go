package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
)

// run executes the promote command line with args (args[0] is the program
// name) and returns the exit code. It writes only to stdout and stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	st := &state{stdout: stdout, stderr: stderr}
	app := newApp(st)
	err := interrupted(ctx, app.RunContext(ctx, normalizeArgs(app, args)))
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

Flags may come before or after positional arguments.`,
		Writer:               st.stdout,
		ErrWriter:            st.stderr,
		Flags:                globalFlags(),
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         usageError,
		Before: func(c *cli.Context) error {
			return st.configure(c)
		},
		Commands: []*cli.Command{
			toCommand(st),
			rollbackCommand(st),
			currentCommand(st),
			statusCommand(st),
			historyCommand(st),
			showCommand(st),
			gatesCommand(st),
			ledgerCommand(st),
			envsCommand(st),
			configCommand(st),
		},
	}
	for _, c := range app.Commands {
		setUsageError(c)
	}
	return app
}

func setUsageError(c *cli.Command) {
	c.OnUsageError = usageError
	for _, s := range c.Subcommands {
		setUsageError(s)
	}
}

func usageError(_ *cli.Context, err error, _ bool) error {
	return fmt.Errorf("%w: %v (see --help)", errs.ErrUsage, err)
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "environments.yaml", EnvVars: []string{"PROMOTE_CONFIG"},
			Usage: "environments file `FILE`"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", EnvVars: []string{"PROMOTE_OUTPUT"},
			Usage: "output format: text, json (exactly one document on stdout, logs on stderr) or csv (history)"},
		&cli.StringSliceFlag{Name: "insecure-registry", EnvVars: []string{"PROMOTE_INSECURE_REGISTRY"},
			Usage: "registry `HOST[:PORT]` that may be reached over plain HTTP (repeatable; a host alone covers every port; comma-separated in the env var); every other registry, loopback included, over verified TLS"},
		&cli.IntFlag{Name: "jobs", Value: 4, EnvVars: []string{"PROMOTE_JOBS"}, Usage: "parallel transfers, and with several APPs, promotions at a time"},
		&cli.BoolFlag{Name: "verbose", EnvVars: []string{"PROMOTE_VERBOSE"}, Usage: "log progress to stderr"},
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
