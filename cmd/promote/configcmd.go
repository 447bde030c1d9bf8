package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/promote"
)

// configOnly is action for the commands that read the configuration
// alone: no ledger is opened (nor created).
func (s *state) configOnly(name string, fn func(c *cli.Context) (any, func(io.Writer), error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		s.command = name
		res, text, err := fn(c)
		return s.render(name, res, text, interrupted(c.Context, err))
	}
}

func configCommand(s *state) *cli.Command {
	const usage = "config check [--online]"
	check := command("check", usage, "load and check the configuration, its gates' keys and files and its attestation keys; touch no registry unless --online",
		&cli.BoolFlag{Name: "online", Usage: "also reach each environment's registry (ping, and authenticate where it asks)"})
	check.Description = `Exit 2 when the configuration does not load or a check fails; each problem is
listed under its environment; the ledger key is loaded as a writer loads it. The
ledger is not opened.`
	check.Action = s.configOnly("config check", func(c *cli.Context) (any, func(io.Writer), error) {
		if _, err := positional(c, usage, 0, 0); err != nil {
			return nil, nil, err
		}
		p, err := promote.CheckConfig(c.Context, s.openOptions(), c.Bool("online"))
		return partial(p, err, func(w io.Writer, p *promote.Pipeline) {
			printPipeline(w, p)
			if p.Problems == 0 {
				fmt.Fprintln(w, "no problems found")
			}
		})
	})
	return &cli.Command{Name: "config", Usage: "check the configuration", Subcommands: []*cli.Command{check}}
}

func envsListCommand(s *state) *cli.Command {
	const usage = "envs list"
	cmd := command("list", usage, "the pipeline: each environment, where it is fed from, its repository, tag policy and gates")
	cmd.Action = s.configOnly("envs list", func(c *cli.Context) (any, func(io.Writer), error) {
		if _, err := positional(c, usage, 0, 0); err != nil {
			return nil, nil, err
		}
		p, err := promote.DescribePipeline(s.configPath)
		return answer(p, err, printPipeline)
	})
	return cmd
}

func printPipeline(w io.Writer, p *promote.Pipeline) {
	fmt.Fprintf(w, "config %s, ledger %s\n", p.Config, p.Ledger)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tFROM\tREPOSITORY\tTAGS\tGATES")
	for _, e := range p.Environments {
		from := e.From
		if from == "" {
			from = "(pushes)"
		}
		tags := e.Tags
		if e.PointerTag != "" {
			tags += ", pointer " + e.PointerTag
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, from, e.Repository, tags, orNone(strings.Join(e.Gates, ",")))
	}
	tw.Flush()
	if p.LedgerKey != "" {
		fmt.Fprintf(w, "ledger key: %s\n", p.LedgerKey)
	}
	for _, e := range p.Environments {
		if e.AttestKey != "" {
			fmt.Fprintf(w, "%s: attestation key %s: %s\n", e.Name, e.Attest, e.AttestKey)
		}
		if e.Reach != "" {
			fmt.Fprintf(w, "%s: registry %s: %s\n", e.Name, e.Registry, e.Reach)
		}
	}
	if p.Problems > 0 {
		fmt.Fprintf(w, "%d problem(s)\n", p.Problems)
	}
}
