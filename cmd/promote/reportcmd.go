package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

// reportFindings are the kinds --fail-on takes.
var reportFindings = []string{promote.FindingStale, promote.FindingOld, promote.FindingVulnerable, promote.FindingRevoked}

func reportCommand(s *state) *cli.Command {
	const usage = "report [APP...] [--env ENV] [--since WHEN] [--fail-on WHAT] [--rebuild] [--pipeline]"
	cmd := command("report", usage, "what runs where: how old, on which base, stale, revoked; what to rebuild (text, json, csv)",
		&cli.StringFlag{Name: "env", Usage: "only environment `ENV`"},
		&cli.StringFlag{Name: "since", Value: "30d", Usage: "the pipeline figures over the records since `WHEN`: a time, a date or an age (30d)"},
		&cli.StringSliceFlag{Name: "fail-on", Usage: "exit 3 when `WHAT` is found: stale, old, vulnerable, revoked (comma-separated or repeated)"},
		&cli.BoolFlag{Name: "rebuild", Usage: "print only the apps to rebuild, one per line (for a CI trigger)"},
		&cli.BoolFlag{Name: "pipeline", Usage: "print only the pipeline figures (text, or csv: one row per environment and week)"})
	cmd.Description = `For every app the ledger knows (or those named) and every environment promote
promotes into: the digest it runs, its tags, when and by whom it was promoted, when the
image was built and its age; the base each platform was proven built on (the base gate's
evidence, or the image's base annotations checked against its layers), its age, and
whether the base's tag now names a newer image (stale, with how many days it is
behind); and revocations covering what runs. An image older than the environment's
maxImageAge, or on a base older than maxBaseAge (default 30d each), is old. Each
environment is green, amber (a stale or old base: rebuild soon) or red (revoked, old,
vulnerable, or unreadable). It reads the ledger and the registries and writes nothing.`
	cmd.Action = s.action("report", func(c *cli.Context, eng *promote.Engine) (any, func(io.Writer), error) {
		failOn, err := parseFailOn(c.StringSlice("fail-on"))
		if err != nil {
			return nil, nil, err
		}
		since, err := parseWhen("since", c.String("since"), time.Now())
		if err != nil {
			return nil, nil, err
		}
		rep, err := eng.Report(c.Context, promote.ReportRequest{Apps: c.Args().Slice(), Env: c.String("env"), Since: since})
		if err != nil {
			return nil, nil, err
		}
		res := reportResult{Report: rep, pipeline: c.Bool("pipeline")}
		text := func(w io.Writer) { printReport(w, rep) }
		if res.pipeline {
			text = func(w io.Writer) { printPipelineFigures(w, rep.Pipeline) }
		}
		if c.Bool("rebuild") {
			text = func(w io.Writer) {
				for _, a := range rep.Rebuild {
					fmt.Fprintln(w, a)
				}
			}
		}
		var found []string
		for _, k := range failOn {
			if n := rep.Counts[k]; n > 0 {
				found = append(found, fmt.Sprintf("%d %s", n, k))
			}
		}
		if len(found) > 0 {
			return res, text, &errs.PolicyRefusal{Policy: "report", Reason: "found " + strings.Join(found, ", ") + " (--fail-on)"}
		}
		if n := rep.Counts[promote.CountUnjudged]; n > 0 && len(failOn) > 0 {
			// fail closed: what could not be judged may hide what --fail-on asks for
			return res, text, fmt.Errorf("%d report entries could not be read or judged (see unknown and error), so --fail-on cannot tell", n)
		}
		return res, text, nil
	})
	return cmd
}

// parseFailOn reads --fail-on values, comma-separated or repeated.
func parseFailOn(vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(reportFindings, k) {
				return nil, errs.Usagef("--fail-on %q: expected %s", k, strings.Join(reportFindings, ", "))
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// reportResult is the report's JSON result and, as a csvWriter, its CSV:
// one row per app and environment, or with --pipeline the pipeline
// figures, one row per environment and week.
type reportResult struct {
	*promote.Report
	pipeline bool
}

func (r reportResult) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if r.pipeline {
		if err := cw.WriteAll(pipelineCSVRows(r.Pipeline)); err != nil {
			return err
		}
		return cw.Error()
	}
	if err := cw.Write([]string{"app", "env", "status", "digest", "tags", "since", "by", "created", "age_days",
		"bases", "newer_base", "days_behind", "revocation", "findings", "error", "unknown"}); err != nil {
		return err
	}
	for _, a := range r.Apps {
		for _, e := range a.Environments {
			var bases, newer []string
			var behind *float64
			for _, b := range e.Bases {
				bases = append(bases, b.Base)
				if b.Newer != "" {
					newer = append(newer, b.Newer)
				}
				if b.DaysBehind != nil && (behind == nil || *b.DaysBehind > *behind) {
					behind = b.DaysBehind
				}
			}
			var kinds []string
			for _, f := range e.Findings {
				kinds = append(kinds, f.Kind)
			}
			row := []string{a.App, e.Env, e.Status, e.Digest, strings.Join(e.Tags, " "), timeText(e.Since), e.By,
				timeText(e.Created), floatText(e.AgeDays), strings.Join(bases, " "), strings.Join(newer, " "), floatText(behind),
				e.Revocation, strings.Join(kinds, " "), e.Error, strings.Join(e.Unknown, "; ")}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func floatText(f *float64) string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("%.1f", *f)
}
