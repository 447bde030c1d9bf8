package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/promote-dev/promote/promote"
)

// printReport prints the report for a terminal: per app, a row per
// environment, then each finding with its reason, and the apps to rebuild.
func printReport(w io.Writer, r *promote.Report) {
	fmt.Fprintf(w, "report of %s (pipeline figures since %s)\n", r.Generated.Format("2006-01-02 15:04 MST"), r.Since.Format("2006-01-02"))
	for _, a := range r.Apps {
		fmt.Fprintf(w, "\n%s\n", a.App)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ENV\tSTATUS\tDIGEST\tTAGS\tPROMOTED\tBUILT\tBASE\tFINDINGS")
		for _, e := range a.Environments {
			digest, promoted, built := "(nothing)", "", ""
			if e.Digest != "" {
				digest = short(e.Digest)
			}
			if e.Since != nil {
				promoted = e.Since.Format("2006-01-02") + " " + e.By
			}
			if e.AgeDays != nil {
				built = fmt.Sprintf("%.0fd ago", *e.AgeDays)
			}
			var kinds []string
			for _, f := range e.Findings {
				k := f.Kind
				if f.Of == "base" && f.Kind == promote.FindingOld {
					k = "old-base"
				}
				kinds = append(kinds, k)
			}
			if e.Error != "" {
				kinds = append(kinds, "unreadable")
			} else if len(e.Unknown) > 0 {
				kinds = append(kinds, "not-judged")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Env, paintStatus(w, e.Status), digest, strings.Join(e.Tags, ","),
				promoted, built, baseText(e.Bases), orNone(strings.Join(kinds, ",")))
		}
		tw.Flush()
		for _, e := range a.Environments {
			for _, f := range e.Findings {
				fmt.Fprintf(w, "  %s: %s: %s\n", e.Env, strings.ToUpper(f.Kind), f.Reason)
			}
			if e.Error != "" {
				fmt.Fprintf(w, "  %s: UNREADABLE: %s\n", e.Env, e.Error)
			}
			for _, u := range e.Unknown {
				fmt.Fprintf(w, "  %s: NOT JUDGED: %s\n", e.Env, u)
			}
		}
	}
	if len(r.Rebuild) > 0 {
		fmt.Fprintf(w, "\nrebuild: %s\n", strings.Join(r.Rebuild, " "))
	}
	fmt.Fprintln(w)
	printPipelineFigures(w, r.Pipeline)
}

// baseText is the bases of an entry, shortest form: each distinct base,
// with its age and, when stale, how far behind.
func baseText(bs []promote.BaseRun) string {
	var out []string
	for _, b := range bs {
		s := b.Base
		if b.AgeDays != nil {
			s += fmt.Sprintf(" (%.0fd", *b.AgeDays)
			if b.DaysBehind != nil {
				s += fmt.Sprintf(", %.0fd behind", *b.DaysBehind)
			}
			s += ")"
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " ")
}

// paintStatus is a status word, coloured on a terminal.
func paintStatus(w io.Writer, status string) string {
	return paint(w, strings.ToUpper(status))
}
