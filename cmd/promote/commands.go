package main

import (
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

// action wraps a command body: it opens the engine, runs fn and renders
// what fn returns, in text or JSON.
func (s *state) action(name string, fn func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		s.command = name
		o := s.openOptions()
		o.ReadOnly = recordsNothing(name, c)
		eng, err := promote.Open(c.Context, o)
		if err != nil {
			return s.render(name, nil, nil, err)
		}
		defer eng.Close()
		res, text, err := fn(c, eng.Engine)
		return s.render(name, res, text, interrupted(c.Context, err))
	}
}

// recordsNothing reports whether command name, as invoked, records nothing:
// its ledger is then opened read-only, so it creates no ledger file.
func recordsNothing(name string, c *cli.Context) bool {
	switch name {
	case "gates", "envs check", "ledger verify", "ledger publish", "approve", "status", "report":
		return true
	case "to", "rollback":
		return c.Bool("dry-run")
	}
	return false
}

// query is action for the commands that only read the ledger: it opens the
// configuration and the ledger, no registry or ECR client.
func (s *state) query(name string, fn func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		s.command = name
		r, err := promote.OpenReader(c.Context, s.configPath, s.keys())
		if err != nil {
			return s.render(name, nil, nil, err)
		}
		defer r.Close()
		res, text, err := fn(c, r)
		return s.render(name, res, text, interrupted(c.Context, err))
	}
}

// judgeArgs is what to and gates judge: ENV APP[:TAG|@DIGEST] and the
// --scan-report files.
type judgeArgs struct {
	env     string
	ref     promote.Ref
	reports []promote.ScanReport
}

func readJudgeArgs(c *cli.Context, usage string) (judgeArgs, error) {
	a, err := positional(c, usage, 2, 2)
	if err != nil {
		return judgeArgs{}, err
	}
	ref, err := promote.ParseRef(a[1])
	if err != nil {
		return judgeArgs{}, err
	}
	reports, err := readReports(c)
	return judgeArgs{env: a[0], ref: ref, reports: reports}, err
}

func toCommand(s *state) *cli.Command {
	const usage = "to ENV APP[:TAG|@DIGEST]... [--tag TAG]... [--dry-run] [--reason TEXT] [--scan-report FILE]... [--break-glass TEXT]"
	cmd := command("to", usage, "promote an image into ENV from the environment it is fed from, after ENV's gates pass",
		&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "also write `TAG` (repeatable)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "run the gates and print the plan; write nothing"},
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger"},
		&cli.StringFlag{Name: "break-glass", Usage: "`TEXT` justifying passing a closed window or a freeze, where ENV has breakGlass (recorded, shown loudly)"},
		scanReportFlag)
	cmd.Description = `With APP alone the source is the from environment's current digest; with :TAG,
that tag in the from repository (resolved once); with @DIGEST, that digest, which must
have been promoted to the from environment (its first 12 or more hex digits, as history
prints it, are enough when they match one digest). Tags written: the given tag, or the tags the
digest carries in the from environment, plus every --tag. A moving tag (latest) is never
written into an immutable environment: the tags derived from the image's labels are.

Several APPs promote in one run, --jobs at a time, sharing connections and the
ledger; each stands alone (one failing changes nothing for the others). The exit
code is the most serious failure's: 1 over 4 over 3. --tag and --scan-report
take one APP.

Before anything is judged or copied, ENV's release policies run: a freeze, its
promotion windows, its soak time, a revoked digest (and any image inside it), and
its approvals. Each refuses with exit 3 and a reason, recorded in the ledger.`
	cmd.Action = s.action("to", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		if a := c.Args().Slice(); len(a) > 2 {
			return toMany(c, eng, a[0], a[1:], s.jobs)
		}
		j, err := readJudgeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Promote(c.Context, promote.Request{Env: j.env, Ref: j.ref, Tags: c.StringSlice("tag"),
			DryRun: c.Bool("dry-run"), Reason: c.String("reason"), Reports: j.reports, BreakGlass: c.String("break-glass")})
		return partial(res, err, printPromotion)
	})
	return cmd
}

func rollbackCommand(s *state) *cli.Command {
	const usage = "rollback ENV APP [--to DIGEST|RECORD] [--dry-run] [--reason TEXT]"
	cmd := command("rollback", usage, "re-point ENV at a digest it held before (default: the one before the current); copies nothing",
		&cli.StringFlag{Name: "to", Usage: "`DIGEST|RECORD` to return to: a digest (or its first 12 or more hex digits, as history prints it) or a record id"},
		&cli.BoolFlag{Name: "dry-run", Usage: "show the digest and tags it would re-point; write nothing"},
		&cli.StringFlag{Name: "reason", Usage: "`TEXT` saying why, recorded in the ledger"})
	cmd.Description = `Rolling back to the digest ENV already runs has nothing to do and exits 0,
so a retried job or a second person in the same incident does not fail.`
	cmd.Action = s.action("rollback", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 2, 2)
		if err != nil {
			return nil, nil, err
		}
		res, err := eng.Rollback(c.Context, promote.RollbackRequest{Env: a[0], App: a[1], To: c.String("to"),
			Reason: c.String("reason"), DryRun: c.Bool("dry-run")})
		return answer(res, err, printRollback)
	})
	return cmd
}

func currentCommand(s *state) *cli.Command {
	const usage = "current ENV APP [--at WHEN]"
	cmd := command("current", usage, "print REPOSITORY@DIGEST that ENV holds for APP (or held at a moment)",
		&cli.StringFlag{Name: "at", Usage: "what ENV held at `WHEN`: a time, a date or an age (7d)"})
	cmd.Action = s.query("current", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 2, 2)
		if err != nil {
			return nil, nil, err
		}
		var cur *promote.Current
		if at := c.String("at"); at != "" {
			when, werr := parseWhen("at", at, time.Now())
			if werr != nil {
				return nil, nil, werr
			}
			cur, err = r.CurrentAt(c.Context, a[0], a[1], when)
		} else {
			cur, err = r.Current(c.Context, a[0], a[1])
		}
		return answer(cur, err, func(w io.Writer, cur *promote.Current) { io.WriteString(w, cur.Reference+"\n") })
	})
	return cmd
}

func historyCommand(s *state) *cli.Command {
	const usage = "history [APP] [--env ENV] [--kind KIND]... [--actor ID] [--since WHEN] [--until WHEN] [--limit N] [--page P]"
	cmd := command("history", usage, "list ledger records, newest first (--output csv for spreadsheets)",
		&cli.StringFlag{Name: "env", Usage: "only records of environment `ENV`"},
		&cli.StringSliceFlag{Name: "kind", Usage: "only records of `KIND`: promotion, rollback, rejected, freeze, unfreeze, revocation or unrevocation (repeatable)"},
		&cli.StringFlag{Name: "actor", Usage: "only records by `ID` (as history shows it, e.g. github:alice)"},
		&cli.StringFlag{Name: "since", Usage: "only records at or after `WHEN`"},
		&cli.StringFlag{Name: "until", Usage: "only records before `WHEN`"},
		&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: 50, Usage: "at most `N` records a page (0: all)"},
		&cli.IntFlag{Name: "page", Value: 1, Usage: "page `P` of the results, newest first"})
	cmd.Description = `WHEN is a time (2026-11-24T09:30:00Z), a date (2026-11-24, midnight UTC) or an age
(36h, 7d). --since is inclusive, --until exclusive. Pages hold --limit records.`
	cmd.Action = s.query("history", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		q, err := historyQuery(c)
		if err != nil {
			return nil, nil, err
		}
		recs, err := r.History(c.Context, q)
		if err != nil {
			return nil, nil, err
		}
		if recs == nil {
			recs = []ledger.Checked{}
		}
		return historyResult{Records: recs, Page: c.Int("page")}, func(w io.Writer) { printHistory(w, recs, time.Now()) }, nil
	})
	return cmd
}

// historyResult is history's JSON result; as a csvWriter it is also its CSV.
type historyResult struct {
	Records []ledger.Checked `json:"records"`
	Page    int              `json:"page"`
}

func (h historyResult) writeCSV(w io.Writer) error { return writeCSV(w, h.Records) }

func historyQuery(c *cli.Context) (ledger.Query, error) {
	a, err := positional(c, "history [APP] [flags]", 0, 1)
	if err != nil {
		return ledger.Query{}, err
	}
	q := ledger.Query{Env: c.String("env"), Actor: c.String("actor"), Limit: c.Int("limit")}
	if len(a) == 1 {
		q.App = a[0]
	}
	if q.Limit < 0 {
		return q, errs.Usagef("--limit %d: expected 0 or more", q.Limit)
	}
	page := c.Int("page")
	switch {
	case page < 1:
		return q, errs.Usagef("--page %d: pages start at 1", page)
	case page > 1 && q.Limit == 0:
		return q, errs.Usagef("--page needs --limit: a page holds --limit records")
	}
	q.Offset = (page - 1) * q.Limit
	for _, k := range c.StringSlice("kind") {
		kind := ledger.Kind(strings.ToLower(k))
		if !slices.Contains(ledger.Kinds, kind) {
			return q, errs.Usagef("--kind %q: expected one of %s", k, kindList())
		}
		q.Kinds = append(q.Kinds, kind)
	}
	now := time.Now()
	if v := c.String("since"); v != "" {
		if q.Since, err = parseWhen("since", v, now); err != nil {
			return q, err
		}
	}
	if v := c.String("until"); v != "" {
		if q.Until, err = parseWhen("until", v, now); err != nil {
			return q, err
		}
	}
	return q, nil
}

func showCommand(s *state) *cli.Command {
	const usage = "show RECORD"
	cmd := command("show", usage, "print one ledger record with its gate evidence")
	cmd.Action = s.query("show", func(c *cli.Context, r *promote.Reader) (any, func(io.Writer), error) {
		a, err := positional(c, usage, 1, 1)
		if err != nil {
			return nil, nil, err
		}
		return showRecord(c.Context, r, a[0])
	})
	return cmd
}

func gatesCommand(s *state) *cli.Command {
	const usage = "gates ENV APP[:TAG|@DIGEST] [--scan-report FILE]..."
	cmd := command("gates", usage, "evaluate ENV's gates on an image; copy and record nothing", scanReportFlag)
	cmd.Action = s.action("gates", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		j, err := readJudgeArgs(c, usage)
		if err != nil {
			return nil, nil, err
		}
		ev, err := eng.Evaluate(c.Context, j.env, j.ref, j.reports)
		return partial(ev, err, printEvaluation)
	})
	return cmd
}

func ledgerCommand(s *state) *cli.Command {
	return &cli.Command{
		Name:  "ledger",
		Usage: "inspect, prove and audit the ledger",
		Subcommands: []*cli.Command{
			ledgerCopyCommand(s), ledgerCheckCommand(s), ledgerVerifyCommand(s), ledgerCheckpointCommand(s),
			ledgerProveCommand(s), ledgerKeyCommand(s), ledgerUpgradeCommand(s), ledgerPublishCommand(s),
		},
	}
}

// kindList is the record kinds, comma-separated, for --kind's help and errors.
func kindList() string {
	ks := make([]string, len(ledger.Kinds))
	for i, k := range ledger.Kinds {
		ks[i] = string(k)
	}
	return strings.Join(ks, ", ")
}
