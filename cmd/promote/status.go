package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

func statusCommand(s *state) *cli.Command {
	const usage = "status APP [--fail-on WHAT]"
	cmd := command("status", usage, "what runs where for APP: each environment's digest, tags, when and by whom, its release policies, and what the next hop needs",
		&cli.StringSliceFlag{Name: "fail-on", Usage: "exit 3 when `WHAT` is found; WHAT is revoked (an environment runs a revoked digest)"})
	cmd.Description = `Reads the configuration and the ledger: a first environment, fed by pushes, is not
followed by the ledger and shows no digest. Each environment's freezes, windows, soak
and break-glass are shown, and a revoked digest it runs is named (REVOKED);
--fail-on revoked exits 3 while any environment runs one, for scheduled jobs. For an
environment with approvals it also reads the registry: who has approved the digest
that would enter it next (what its from environment runs), and how many approvals
are missing; a registry that cannot be read is said on that environment's line.`
	cmd.Action = s.action("status", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 1, 1)
		if err != nil {
			return nil, nil, err
		}
		failOn, err := statusFailOn(c.StringSlice("fail-on"))
		if err != nil {
			return nil, nil, err
		}
		st, err := eng.Status(c.Context, a[0])
		if err == nil && failOn && len(st.Unchecked) > 0 && len(st.RunningRevoked) == 0 {
			err = fmt.Errorf("cannot tell whether %s runs revoked content: %s", st.App, strings.Join(st.Unchecked, "; "))
			return st, func(w io.Writer) { printStatus(w, st) }, err
		}
		if err == nil && failOn && len(st.RunningRevoked) > 0 {
			err = &errs.PolicyRefusal{Policy: "revocation", Reason: fmt.Sprintf("%s runs a revoked digest in %s: roll back there",
				st.App, strings.Join(st.RunningRevoked, ", "))}
			return st, func(w io.Writer) { printStatus(w, st) }, err
		}
		return answer(st, err, printStatus)
	})
	return cmd
}

// statusFailOn reads --fail-on: whether revoked is asked for.
func statusFailOn(vals []string) (bool, error) {
	on := false
	for _, v := range vals {
		for _, w := range strings.Split(v, ",") {
			switch strings.TrimSpace(w) {
			case "revoked":
				on = true
			default:
				return false, errs.Usagef("--fail-on %q: expected revoked", w)
			}
		}
	}
	return on, nil
}

func printStatus(w io.Writer, st *promote.Status) {
	fmt.Fprintln(w, st.App)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tDIGEST\tTAGS\tSINCE\tBY\tGATES")
	for _, e := range st.Environments {
		digest, since := short(e.Digest), ""
		switch {
		case e.FedByPushes:
			digest = "(fed by pushes)"
		case e.Digest == "":
			digest = "(nothing)"
		}
		if e.Since != nil {
			since = e.Since.UTC().Format(time.RFC3339)
		}
		if e.Revoked != nil {
			digest += " " + paint(w, "REVOKED")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Env, digest, strings.Join(e.Tags, ","), since, e.By, orNone(strings.Join(e.Gates, ",")))
	}
	tw.Flush()
	for _, e := range st.Environments {
		for _, f := range e.Frozen {
			fmt.Fprintf(w, "%s: %s %s\n", e.Env, paint(w, "FROZEN"), f)
		}
		if e.Revoked != nil {
			fmt.Fprintf(w, "%s: runs %s, %s (record %s): %s; roll back: promote rollback %s %s\n", e.Env, short(e.Digest),
				paint(w, "REVOKED"), e.Revoked.ID, e.Revoked.Reason, e.Env, st.App)
		}
		for _, p := range e.Policies {
			fmt.Fprintf(w, "%s: %s\n", e.Env, p)
		}
	}
	for _, u := range st.Unchecked {
		fmt.Fprintf(w, "not checked against the revocations: %s\n", u)
	}
	for _, e := range st.Environments {
		for _, n := range e.Next {
			switch {
			case n.UpToDate:
				fmt.Fprintf(w, "%s -> %s: up to date\n", e.Env, n.Env)
			case n.RolledBack:
				fmt.Fprintf(w, "%s -> %s: %s was rolled back in %s; promoting it again would undo that\n", e.Env, n.Env, short(e.Digest), n.Env)
			case n.Pending:
				fmt.Fprintf(w, "%s -> %s: %s is not in %s yet; gates %s; run: %s\n", e.Env, n.Env, short(e.Digest), n.Env, orNone(strings.Join(n.Gates, ", ")), n.Command)
			default:
				fmt.Fprintf(w, "%s -> %s: gates %s; run: %s\n", e.Env, n.Env, orNone(strings.Join(n.Gates, ", ")), n.Command)
			}
		}
	}
	for _, e := range st.Environments {
		if e.Approvals != nil {
			printPendingApprovals(w, e.Env, e.Approvals)
		}
	}
}

// printPendingApprovals is one environment's line of approvals.
func printPendingApprovals(w io.Writer, env string, p *promote.PendingApprovals) {
	if p.Error != "" {
		fmt.Fprintf(w, "%s approvals of %s: cannot be counted: %s\n", env, short(p.Digest), p.Error)
		return
	}
	var who []string
	for _, a := range p.Approved { // the name is asserted; the signer is what was verified
		switch {
		case a.Approver == "":
			who = append(who, a.Signer)
		default:
			who = append(who, a.Approver+", signed by "+a.Signer)
		}
	}
	line := fmt.Sprintf("%s approvals of %s: %d of %d", env, short(p.Digest), len(p.Approved), p.Required)
	if len(who) > 0 {
		line += " (" + strings.Join(who, "; ") + ")"
	}
	if len(p.NotCounted) > 0 {
		line += fmt.Sprintf("; %d not counted", len(p.NotCounted))
	}
	if p.Missing > 0 {
		line += fmt.Sprintf("; %d missing; run: %s", p.Missing, p.Command)
	} else {
		line += "; approved"
	}
	fmt.Fprintln(w, line)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
