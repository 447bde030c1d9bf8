package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/promote"
)

func statusCommand(s *state) *cli.Command {
	const usage = "status APP"
	cmd := command("status", usage, "what runs where for APP: each environment's digest, tags, when and by whom, and what the next hop needs")
	cmd.Description = `Reads the configuration and the ledger only (no registry): a first environment, fed
by pushes, is not followed by the ledger and shows no digest.`
	cmd.Action = s.query("status", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 1, 1)
		if err != nil {
			return nil, nil, err
		}
		st, err := r.Status(c.Context, a[0])
		return answer(st, err, printStatus)
	})
	return cmd
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Env, digest, strings.Join(e.Tags, ","), since, e.By, orNone(strings.Join(e.Gates, ",")))
	}
	tw.Flush()
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
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
