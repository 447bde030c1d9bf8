package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/promote-dev/promote/promote"
)

// printPipelineFigures renders the pipeline (DORA) figures of a report for
// a terminal: one line per environment, the weeks as rows with one
// promotions/rollbacks column per environment, then the lead times. A
// figure with nothing to measure shows "-". (printPipeline is envs list's.)
func printPipelineFigures(w io.Writer, p promote.PipelineFigures) {
	fmt.Fprintf(w, "pipeline %s to %s (excluded)\n", p.Since.UTC().Format(time.RFC3339), p.Until.UTC().Format(time.RFC3339))
	if len(p.Environments) == 0 {
		fmt.Fprintln(w, "no environment is promoted into")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tFROM\tPROMOTIONS\tROLLBACKS\tRATE\tREFUSED\tFREEZES\tRESTORES\tMEDIAN\tMAX")
	for _, e := range p.Environments {
		rate := "-"
		if e.RollbackRate != nil {
			rate = fmt.Sprintf("%.0f%%", *e.RollbackRate*100)
		}
		r := e.TimeToRestore
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t%s\t%s\n", e.Env, e.From, e.Promotions, e.Rollbacks, rate,
			e.Refused, e.Freezes, r.Count, pipelineSeconds(r.MedianSeconds), pipelineSeconds(r.MaxSeconds))
	}
	tw.Flush()

	weeks, cells, clipped := pipelineWeekTable(p)
	if len(weeks) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "WEEK")
		for _, e := range p.Environments {
			fmt.Fprintf(tw, "\t%s", e.Env)
		}
		fmt.Fprintln(tw)
		for _, wk := range weeks {
			fmt.Fprint(tw, wk)
			for _, e := range p.Environments {
				fmt.Fprintf(tw, "\t%s", cells[e.Env][wk])
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		note := "promotions/rollbacks per ISO week (UTC)"
		if clipped {
			note += fmt.Sprintf("; the last %d weeks of the window only", len(weeks))
		}
		fmt.Fprintln(w, note)
	}

	if len(p.LeadTimes) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LEAD TIME\tDIGESTS\tMEDIAN\tP90\tMAX")
		for _, l := range p.LeadTimes {
			fmt.Fprintf(tw, "%s -> %s\t%d\t%s\t%s\t%s\n", l.From, l.Env, l.Count,
				pipelineSeconds(l.MedianSeconds), pipelineSeconds(l.P90Seconds), pipelineSeconds(l.MaxSeconds))
		}
		tw.Flush()
		fmt.Fprintln(w, "lead time: from a digest's earliest promotion into the first promoted environment (not its commit)")
	}
}

// pipelineWeekTable gathers the weeks of every environment in order and
// each environment's "promotions/rollbacks" cell per week ("-" where an
// environment lists no such week).
func pipelineWeekTable(p promote.PipelineFigures) (weeks []string, cells map[string]map[string]string, clipped bool) {
	cells = map[string]map[string]string{}
	for _, e := range p.Environments {
		clipped = clipped || e.WeeksClipped
		for _, wk := range e.Weeks {
			if !slices.Contains(weeks, wk.Week) {
				weeks = append(weeks, wk.Week)
			}
		}
	}
	slices.Sort(weeks) // ISO week names (2026-W53) sort in time order
	for _, e := range p.Environments {
		row := map[string]string{}
		for _, wk := range weeks {
			row[wk] = "-"
		}
		for _, wk := range e.Weeks {
			row[wk.Week] = fmt.Sprintf("%d/%d", wk.Promotions, wk.Rollbacks)
		}
		cells[e.Env] = row
	}
	return weeks, cells, clipped
}

// pipelineCSVRows gives report --output csv's pipeline rows: a header,
// then one row per environment and ISO week. Columns are only ever added
// at the end.
func pipelineCSVRows(p promote.PipelineFigures) [][]string {
	rows := [][]string{{"env", "from", "week", "week_start", "promotions", "rollbacks"}}
	for _, e := range p.Environments {
		for _, wk := range e.Weeks {
			rows = append(rows, []string{e.Env, e.From, wk.Week, wk.Start.UTC().Format(time.RFC3339),
				strconv.Itoa(wk.Promotions), strconv.Itoa(wk.Rollbacks)})
		}
	}
	return rows
}

// pipelineSeconds shows a measured duration in seconds for a person; "-"
// when nothing was measured.
func pipelineSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return pipelineDuration(time.Duration(*s * float64(time.Second)))
}

// pipelineDuration is d in its two largest units, as 2d 3h, 1h 30m, 45m or
// 12s, a zero second unit left out.
func pipelineDuration(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++ // which has no negation
		}
		return "-" + pipelineDuration(-d)
	}
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units[:3] {
		if d >= u.d {
			s := strconv.FormatInt(int64(d/u.d), 10) + u.name
			if rest := (d % u.d) / units[i+1].d; rest > 0 {
				s += " " + strconv.FormatInt(int64(rest), 10) + units[i+1].name
			}
			return s
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
