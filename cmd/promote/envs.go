package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

func envsCommand(s *state) *cli.Command {
	return &cli.Command{
		Name:        "envs",
		Usage:       "check or create the ECR repositories of the environments: tag immutability, scan on push, encryption",
		Subcommands: []*cli.Command{envsListCommand(s), envsCheckCommand(s), envsApplyCommand(s)},
	}
}

func envsCheckCommand(s *state) *cli.Command {
	cmd := command("check", "envs check [APP...]", "report every ECR environment's repository of each APP (default: every app in the ledger); change nothing")
	cmd.Description = `Exit 4 when a repository has an error finding: it is missing, or an immutable
environment's repository lets tags move (MUTABLE or MUTABLE_WITH_EXCLUSION).
Warnings (no sha256-* exclusion for legacy signature tags, scan on push off) exit 0.
Environments not in ECR are listed as skipped.`
	cmd.Action = s.action("envs check", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		rep, err := eng.CheckEnvs(c.Context, c.Args().Slice())
		return envsResult(rep, err, "check")
	})
	return cmd
}

func envsApplyCommand(s *state) *cli.Command {
	cmd := command("apply", "envs apply [APP...] [--fix-mutability] [--no-exclude-attachments]", "create the missing ECR repositories of each APP (default: every app in the ledger)",
		&cli.BoolFlag{Name: "fix-mutability", Usage: "also set existing repositories of immutable environments immutable (with the sha256-* exclusion)"},
		&cli.BoolFlag{Name: "no-exclude-attachments", Usage: "no sha256-* exclusion filter: legacy cosign .sig/.att tags become immutable too"})
	cmd.Description = `A missing repository is created with scan on push: MUTABLE in a mutable environment;
in an immutable one IMMUTABLE_WITH_EXCLUSION with the filter sha256-*, so that cosign's
legacy .sig/.att/.sbom tags can still be rewritten (--no-exclude-attachments: IMMUTABLE).
An existing repository is changed only with --fix-mutability: an immutable environment's
MUTABLE repository is set IMMUTABLE(_WITH_EXCLUSION), an IMMUTABLE one gets the sha256-*
filter; no filter is ever removed. Exit 4 when an error finding remains afterwards.`
	cmd.Action = s.action("envs apply", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		rep, err := eng.ApplyEnvs(c.Context, c.Args().Slice(), promote.ApplyOptions{
			FixMutability: c.Bool("fix-mutability"), NoExcludeAttachments: c.Bool("no-exclude-attachments")})
		return envsResult(rep, err, "apply")
	})
	return cmd
}

// envsResult renders a report; error findings are a conflict (exit 4)
// unless something failed outright.
func envsResult(rep *promote.EnvsReport, err error, sub string) (any, func(io.Writer), error) {
	if rep == nil {
		return nil, nil, err
	}
	text := func(w io.Writer) { printEnvs(w, rep, sub) }
	if err == nil && rep.Errors > 0 {
		err = errs.Conflictf("%d error finding(s) in the environments' ECR repositories", rep.Errors)
	}
	return rep, text, err
}

func printEnvs(w io.Writer, rep *promote.EnvsReport, sub string) {
	apply := sub == "apply"
	switch {
	case len(rep.Apps) == 0:
		fmt.Fprintf(w, "no apps: none named and the ledger has no records; name them: promote envs %s APP...\n", sub)
	case rep.AppsFrom == "ledger":
		fmt.Fprintf(w, "apps (from the ledger): %s\n", strings.Join(rep.Apps, ", "))
	}
	if len(rep.Repositories) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "ENV\tAPP\tREPOSITORY\tMUTABILITY\tSCAN\tFINDINGS"
		if apply {
			head += "\tACTION"
		}
		fmt.Fprintln(tw, head)
		for _, r := range rep.Repositories {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", r.Env, r.App, r.Repository, envsMutability(r), envsScan(r), envsFindings(r))
			if apply {
				fmt.Fprintf(tw, "\t%s", envsOrDash(r.Action))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	for _, r := range rep.Repositories {
		if r.Error != "" {
			fmt.Fprintf(w, "  failed   %s %s: %s\n", r.Env, r.App, r.Error)
		}
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %-7s  %s %s: %s\n", f.Severity, r.Env, r.App, f.Message)
		}
	}
	for _, sk := range rep.Skipped {
		fmt.Fprintf(w, "  skipped  %s: %s\n", sk.Env, sk.Reason)
	}
}

func envsMutability(r promote.EnvRepo) string {
	switch {
	case r.Error != "" && !r.Exists:
		return "?"
	case !r.Exists:
		return "-"
	case len(r.ExclusionFilters) > 0:
		return fmt.Sprintf("%s(%s)", r.TagMutability, strings.Join(r.ExclusionFilters, ","))
	}
	return r.TagMutability
}

func envsScan(r promote.EnvRepo) string {
	switch {
	case !r.Exists:
		return "-"
	case r.ScanOnPush:
		return "on"
	}
	return "off"
}

func envsFindings(r promote.EnvRepo) string {
	if r.Error != "" {
		return "failed"
	}
	var e, wn int
	for _, f := range r.Findings {
		if f.Severity == promote.SeverityError {
			e++
		} else {
			wn++
		}
	}
	var parts []string
	if e > 0 {
		parts = append(parts, envsPlural(e, "error"))
	}
	if wn > 0 {
		parts = append(parts, envsPlural(wn, "warning"))
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ", ")
}

func envsPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func envsOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
