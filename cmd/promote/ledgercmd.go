package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

// ledgerCopyCommand moves a history between backends, hashes intact. It
// needs no configuration: both ledgers are named on the command line.
func ledgerCopyCommand(s *state) *cli.Command {
	const usage = "ledger copy --from LOCATION --to LOCATION"
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy every record to another ledger (a file path or s3://bucket/prefix), hashes and chains intact",
		UsageText: "promote " + usage,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "source ledger `LOCATION`"},
			&cli.StringFlag{Name: "to", Usage: "destination ledger `LOCATION` (its chains must be empty)"},
		},
		Action: func(c *cli.Context) error {
			s.command = "ledger copy"
			if _, err := positional(c, usage, 0, 0); err != nil {
				return s.render(s.command, nil, nil, err)
			}
			from, to := c.String("from"), c.String("to")
			if from == "" || to == "" {
				return s.render(s.command, nil, nil, errs.Usagef("ledger copy: --from and --to are both required"))
			}
			cp, err := promote.CopyLedger(c.Context, from, to)
			if cp == nil {
				return s.render(s.command, nil, nil, err)
			}
			res := map[string]any{"from": from, "to": to, "records": cp.Records}
			return s.render(s.command, res, func(w io.Writer) {
				fmt.Fprintf(w, "copied %d records from %s to %s; the destination verifies\n", cp.Records, from, to)
			}, err)
		},
	}
}

// ledgerCheckCommand reports whether the configured ledger keeps records WORM.
func ledgerCheckCommand(s *state) *cli.Command {
	cmd := command("check", "ledger check", "report whether the ledger's bucket has versioning and Object Lock (WORM records for auditors)")
	cmd.Action = s.query("ledger check", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		if _, err := positional(c, "ledger check", 0, 0); err != nil {
			return nil, nil, err
		}
		rep, err := r.CheckLedger(c.Context)
		return answer(rep, err, printCheck)
	})
	return cmd
}

func printCheck(w io.Writer, r ledger.CheckReport) {
	state := "NOT WORM"
	if r.WORM() {
		state = "WORM"
	}
	fmt.Fprintf(w, "ledger %s: %s (versioning %q, object lock %v, retention %s %dd %dy)\n",
		r.Location, state, r.Versioning, r.ObjectLock, r.RetentionMode, r.RetentionDays, r.RetentionYears)
	for _, a := range r.Advice {
		fmt.Fprintf(w, "  - %s\n", a)
	}
}

// shown is show's result: the record, marked if it does not check out, and
// its place in the log.
type shown struct {
	ledger.Checked
	Log *promote.Inclusion `json:"log,omitempty"`
}

// showRecord is show's result: the record, marked if it does not check out,
// then also its *ledger.TamperedError, so that show exits 1; and whether the
// newest checkpoint proves it is in the log, with promote.ErrNotIncluded
// (exit 1) if the ledger signs checkpoints and it does not.
func showRecord(ctx context.Context, r *promote.Reader, id string) (any, func(io.Writer), error) {
	rec, err := r.Show(ctx, id)
	if err != nil && !errors.Is(err, ledger.ErrTampered) {
		return nil, nil, err
	}
	in, ierr := r.Include(ctx, rec.Record)
	res := shown{Checked: rec, Log: &in}
	text := func(w io.Writer) {
		printRecord(w, rec)
		printInclusion(w, in)
	}
	if err == nil {
		err = ierr
	}
	return res, text, err
}

// printInclusion is show's last line: the record's place in the log.
func printInclusion(w io.Writer, in promote.Inclusion) {
	switch {
	case in.Included:
		fmt.Fprintf(w, "%-10s leaf %d of %d in %s, proven by the newest checkpoint, its signature checked\n", "log", in.LeafIndex, in.TreeSize, in.Origin)
	case in.Unsigned:
		fmt.Fprintf(w, "%-10s not proven: %s\n", "log", in.Problem)
	default:
		fmt.Fprintf(w, "%-10s NOT PROVEN: %s\n", "log", in.Problem)
	}
}
