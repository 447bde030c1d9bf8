package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

// The release-control commands: freeze and unfreeze an environment,
// revoke and unrevoke a digest. Each writes one ledger record (none when
// there is nothing to do) and prints what is now in force.

func freezeCommand(s *state) *cli.Command {
	const usage = "freeze ENV|--all --reason TEXT"
	cmd := command("freeze", usage, "stop promotions into ENV (or every environment) until unfreeze; rollbacks still run",
		&cli.BoolFlag{Name: "all", Usage: "freeze every environment"},
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger (required)"})
	cmd.Description = `A freeze is a ledger record: every promotion into the environment is refused
(exit 3, recorded) until promote unfreeze. Rollbacks are not held back: they are how
incidents end. Where the environment has breakGlass, promote to --break-glass TEXT
passes a freeze, recorded and shown loudly. A freeze of every environment (--all) and
a freeze of one are lifted separately. Freezing a frozen environment records nothing.`
	cmd.Action = s.action("freeze", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		req, err := freezeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Freeze(c.Context, req)
		return answer(res, err, printControl)
	})
	return cmd
}

func unfreezeCommand(s *state) *cli.Command {
	const usage = "unfreeze ENV|--all [--reason TEXT]"
	cmd := command("unfreeze", usage, "lift the freeze of ENV (or of every environment)",
		&cli.BoolFlag{Name: "all", Usage: "lift the freeze of every environment (freeze --all)"},
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger"})
	cmd.Description = `Unfreezing an environment that is not frozen records nothing. unfreeze ENV does
not lift freeze --all (it says so, exit 2), and unfreeze --all does not lift a freeze
of one environment: the output names any freeze still in force.`
	cmd.Action = s.action("unfreeze", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		req, err := freezeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Unfreeze(c.Context, req)
		return answer(res, err, printControl)
	})
	return cmd
}

// freezeArgs reads ENV or --all, and --reason.
func freezeArgs(c *cli.Context, usage string) (promote.ControlRequest, error) {
	req := promote.ControlRequest{All: c.Bool("all"), Reason: c.String("reason")}
	lo := 1
	if req.All {
		lo = 0
	}
	a, err := positional(c, usage, lo, 1)
	if err != nil {
		return req, err
	}
	if len(a) == 1 {
		req.Env = a[0]
	}
	return req, nil
}

func revokeCommand(s *state) *cli.Command {
	const usage = "revoke APP@DIGEST --reason TEXT"
	cmd := command("revoke", usage, "refuse APP@DIGEST to every promotion and rollback, in every environment",
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger (required)"})
	cmd.Description = `A revocation is a ledger record: from now on no environment may take the digest,
by promotion or by rollback, whatever its gates say, and no index holding it either,
until promote unrevoke. Environments running it now are named, here and in promote
status (status --fail-on revoked exits 3 while any does): roll them back. Revoking
a revoked digest records nothing.`
	cmd.Action = s.action("revoke", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		req, err := revokeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Revoke(c.Context, req)
		return answer(res, err, printControl)
	})
	return cmd
}

func unrevokeCommand(s *state) *cli.Command {
	const usage = "unrevoke APP@DIGEST --reason TEXT"
	cmd := command("unrevoke", usage, "lift the revocation of APP@DIGEST",
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger (required)"})
	cmd.Description = `Unrevoking a digest that is not revoked records nothing.`
	cmd.Action = s.action("unrevoke", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		req, err := revokeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Unrevoke(c.Context, req)
		return answer(res, err, printControl)
	})
	return cmd
}

// revokeArgs reads APP@DIGEST and --reason.
func revokeArgs(c *cli.Context, usage string) (promote.ControlRequest, error) {
	a, err := positional(c, usage, 1, 1)
	if err != nil {
		return promote.ControlRequest{}, err
	}
	ref, err := promote.ParseRef(a[0])
	if err != nil {
		return promote.ControlRequest{}, err
	}
	return promote.ControlRequest{Ref: ref, Reason: c.String("reason")}, nil
}

// printControl says what a freeze, unfreeze, revoke or unrevoke did.
func printControl(w io.Writer, r *promote.ControlResult) {
	scope := r.Scope
	if scope == ledger.AllEnvs {
		scope = "every environment"
	}
	done := map[ledger.Kind]string{ledger.KindFreeze: "froze", ledger.KindUnfreeze: "unfroze",
		ledger.KindRevocation: "revoked", ledger.KindUnrevocation: "unrevoked"}[r.Kind]
	switch {
	case r.NothingToDo && r.Already != nil:
		fmt.Fprintf(w, "nothing to do: %s is already %s (record %s", scope, map[ledger.Kind]string{
			ledger.KindFreeze: "frozen", ledger.KindRevocation: "revoked"}[r.Kind], r.Already.ID)
		if r.Already.Reason != "" {
			fmt.Fprintf(w, ": %s", r.Already.Reason)
		}
		fmt.Fprintln(w, ")")
	case r.NothingToDo:
		fmt.Fprintf(w, "nothing to do: %s is not %s\n", scope, map[ledger.Kind]string{
			ledger.KindUnfreeze: "frozen", ledger.KindUnrevocation: "revoked"}[r.Kind])
	default:
		word := strings.ToUpper(done)
		if r.Kind == ledger.KindFreeze || r.Kind == ledger.KindRevocation {
			word = paint(w, map[ledger.Kind]string{ledger.KindFreeze: "FROZEN", ledger.KindRevocation: "REVOKED"}[r.Kind])
		}
		fmt.Fprintf(w, "%s %s\n", word, scope)
		fmt.Fprintf(w, "  record    %s\n", r.Record.ID)
		if r.Record.Reason != "" {
			fmt.Fprintf(w, "  reason    %s\n", r.Record.Reason)
		}
	}
	for _, f := range r.StillFrozen {
		fmt.Fprintf(w, "  still frozen: %s\n", f)
	}
	if len(r.Running) > 0 {
		fmt.Fprintf(w, "  running   %s: roll back with promote rollback ENV %s\n", strings.Join(r.Running, ", "),
			strings.SplitN(r.Scope, "@", 2)[0])
	}
}
