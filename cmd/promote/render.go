package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

func short(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func printGates(w io.Writer, gs []verdict.Result) {
	if len(gs) == 0 {
		fmt.Fprintf(w, "  gates     none configured\n")
	}
	for i, g := range gs {
		label := "  gates     "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintf(w, "%s%s %s: %s\n", label, verdictWord(w, g.Verdict), g.Name, g.Reason)
	}
}

// printPolicies prints the release policies' verdicts, and a break-glass
// first and loudly.
func printPolicies(w io.Writer, ps []verdict.Result, breakGlass string) {
	if breakGlass != "" {
		fmt.Fprintf(w, "  %s  %s\n", paint(w, "BREAK-GLASS"), breakGlass)
	}
	for i, p := range ps {
		label := "  policies  "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintf(w, "%s%s %s: %s\n", label, verdictWord(w, p.Verdict), p.Name, p.Reason)
	}
}

// verdictWord is a verdict as the text output shows it: upper case, four
// columns wide, coloured on a terminal.
func verdictWord(w io.Writer, v string) string {
	word := strings.ToUpper(v)
	return paint(w, word) + strings.Repeat(" ", max(0, 4-len(word)))
}

// count is n and word, plural unless n is 1 ("1 blob", "2 blobs").
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func printPromotion(w io.Writer, r *promote.Result) {
	switch {
	case r.NothingToDo:
		fmt.Fprintf(w, "nothing to do: %s already holds %s@%s\n", r.Env, r.App, short(r.Digest))
	case r.DryRun:
		fmt.Fprintf(w, "dry run: would promote %s@%s  %s -> %s\n", r.App, short(r.Digest), r.From, r.Env)
	case r.Record != nil && r.Record.Kind == ledger.KindRejected:
		fmt.Fprintf(w, "%s %s@%s  %s -> %s\n", paint(w, "REJECTED"), r.App, short(r.Digest), r.From, r.Env)
	case r.Record != nil:
		fmt.Fprintf(w, "promoted %s@%s  %s -> %s\n", r.App, short(r.Digest), r.From, r.Env)
	default:
		fmt.Fprintf(w, "not promoted %s@%s  %s -> %s\n", r.App, short(r.Digest), r.From, r.Env)
	}
	fmt.Fprintf(w, "  source    %s\n", sourceText(r.Source))
	printPolicies(w, r.Policies, r.BreakGlass)
	if r.Plan != nil {
		var tags []string
		for _, t := range r.Plan.Tags {
			tags = append(tags, fmt.Sprintf("%s (%s)", t.Tag, t.Action))
		}
		if len(tags) == 0 {
			tags = []string{"none: by digest only"}
		}
		fmt.Fprintf(w, "  target    %s\n  tags      %s\n", r.Repository, strings.Join(tags, ", "))
	}
	switch {
	case r.NothingToDo:
	case !r.Judged:
		fmt.Fprintf(w, "  gates     not run: the run stopped before them (see the error)\n")
	default:
		printGates(w, r.Gates)
	}
	if r.DryRun && r.Plan != nil {
		var copyN, mountN, presentN int
		for _, b := range r.Plan.Blobs {
			switch b.Action {
			case promote.ActCopy:
				copyN++
			case promote.ActMount:
				mountN++
			default:
				presentN++
			}
		}
		writeN := 0
		for _, m := range r.Plan.Manifests {
			if m.Action == promote.ActWrite {
				writeN++
			}
		}
		fmt.Fprintf(w, "  plan      copy %s (%s), mount %d, %d present; write %d of %s\n",
			count(copyN, "blob"), promote.HumanBytes(r.Plan.Bytes()), mountN, presentN, writeN, count(len(r.Plan.Manifests), "manifest"))
	}
	if c := r.Copy; c != nil {
		fmt.Fprintf(w, "  copied    %s (%s), %d within the registry (mounted where it allows), %d present; %s written, %d present\n",
			count(c.BlobsCopied, "blob"), promote.HumanBytes(c.Bytes), c.BlobsMounted, c.BlobsPresent, count(c.ManifestsWritten, "manifest"), c.ManifestsPresent)
	}
	if r.Pointer != "" {
		moved := "moved to"
		if r.DryRun {
			moved = "would move to"
		}
		fmt.Fprintf(w, "  pointer   %s %s %s\n", r.Pointer, moved, short(r.Digest))
	}
	if r.Previous != "" && !r.NothingToDo {
		fmt.Fprintf(w, "  previous  %s\n", r.Previous)
	}
	if rec := r.Record; rec != nil {
		fmt.Fprintf(w, "  record    %s (%s/%s #%d) in %.2fs\n", rec.ID, rec.Env, rec.App, rec.Seq, r.Seconds)
	}
	if r.Attestation != "" {
		fmt.Fprintf(w, "  attested  %s (signed promotion attestation, an OCI referrer of the digest)\n", short(r.Attestation))
	}
}

func printRollback(w io.Writer, r *promote.RollbackResult) {
	switch {
	case r.NothingToDo:
		fmt.Fprintf(w, "%s already runs %s; nothing to roll back\n", r.Env, r.Reference)
		return
	case r.DryRun:
		fmt.Fprintf(w, "would roll back %s in %s (dry run: nothing written)\n", r.App, r.Env)
		fmt.Fprintf(w, "  to        %s\n", r.Reference)
	default:
		fmt.Fprintf(w, "rolled back %s in %s\n", r.App, r.Env)
		fmt.Fprintf(w, "  now       %s\n", r.Reference)
	}
	if len(r.Tags) > 0 {
		fmt.Fprintf(w, "  tags      %s\n", strings.Join(r.Tags, ", "))
	}
	if r.Pointer != "" {
		fmt.Fprintf(w, "  pointer   %s -> %s\n", r.Pointer, short(r.Digest))
	}
	fmt.Fprintf(w, "  was       %s\n", r.Previous)
	if c := r.Record; c != nil {
		fmt.Fprintf(w, "  record    %s (%s/%s #%d)\n", c.ID, r.Env, r.App, c.Seq)
	}
}

func printEvaluation(w io.Writer, ev *promote.Evaluation) {
	fmt.Fprintf(w, "gates of %s for %s@%s\n", ev.Env, ev.App, short(ev.Digest))
	fmt.Fprintf(w, "  source    %s\n  path      %s\n", sourceText(ev.Source), ev.Path)
	printGates(w, ev.Gates)
}

// printHistory prints one row a record; a record that does not check out is
// marked at the end of its row, and counted below the table.
func printHistory(w io.Writer, recs []ledger.Checked, now time.Time) {
	if len(recs) == 0 {
		fmt.Fprintln(w, "no records")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tENV\tAPP\t#\tKIND\tDIGEST\tTAGS\tACTOR\tID")
	bad := 0
	for _, r := range recs {
		kind := string(r.Kind)
		if r.Kind == ledger.KindRejected && r.Rejection != "" {
			kind = "rejected"
		}
		mark := ""
		if !r.Verified {
			mark, bad = "\tDOES NOT CHECK OUT: "+r.Problem, bad+1
		}
		if r.BreakGlass != "" {
			kind += " BREAK-GLASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s%s\n", r.Time.UTC().Format(time.RFC3339), scopeName(r.Env, "(all)"),
			scopeName(r.App, "(all)"), r.Seq, kind, short(r.Digest), strings.Join(r.Tags, ","), r.Actor.Identity, r.ID, mark)
	}
	tw.Flush()
	switch bad {
	case 0:
	case 1:
		fmt.Fprintf(w, "1 record does not check out (marked): its fields are only what its body claims; %s\n", ledger.VerifyHint)
	default:
		fmt.Fprintf(w, "%d records do not check out (marked): their fields are only what their bodies claim; %s\n", bad, ledger.VerifyHint)
	}
}

func printVerify(w io.Writer, rep ledger.Report) {
	if rep.OK() {
		fmt.Fprintf(w, "ledger ok: %d records in %d chains, every hash and link checks out\n", rep.Records, rep.Chains)
		logSummary(w, rep.Log)
		return
	}
	fmt.Fprintf(w, "ledger BROKEN: %d problem(s) in %d records\n", len(rep.Problems), rep.Records)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  %s: %s\n", problemPlace(p), p.Msg)
	}
	logSummary(w, rep.Log)
}

func verifyError(rep ledger.Report) error {
	p := rep.Problems[0]
	return fmt.Errorf("ledger verification failed: the first problem is at %s: %s", problemPlace(p), p.Msg)
}

// sourceText is where a digest came from and what was typed for it, when
// something was ("" for a rollback to the digest held before).
func sourceText(src ledger.Source) string {
	switch {
	case src.Given == "":
		return src.Resolved
	case src.Resolved == "":
		return "(given " + src.Given + ")"
	}
	return src.Resolved + " (given " + src.Given + ")"
}
