package main

import (
	"fmt"
	"io"

	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/ledger"
)

// renderQuiet prints what --quiet keeps: a command's result in its one
// essential form on stdout (quietForm), and its error on stderr. A command
// that fails prints no result; of a batch, each promotion that succeeded
// prints its line and each that failed its error.
func (s *state) renderQuiet(result any, text func(io.Writer), err error) error {
	if b, ok := result.(*batchResult); ok {
		for _, it := range b.Promotions {
			if it.err != nil {
				fmt.Fprintf(s.stderr, "promote: %s: %v\n", it.Source, it.err)
			} else if it.Result != nil {
				fmt.Fprintln(s.stdout, reference(it.Result))
			}
		}
		return err
	}
	if err != nil {
		fmt.Fprintf(s.stderr, "promote: %v\n", err)
		return err
	}
	if result == nil {
		return nil
	}
	if lines, ok := quietForm(result); ok {
		for _, l := range lines {
			fmt.Fprintln(s.stdout, l)
		}
	} else if text != nil {
		text(s.stdout)
	}
	return nil
}

// quietForm is a result's one essential line: REPOSITORY@DIGEST of what a
// promotion wrote (or would write) and of what an environment runs after
// a rollback or now; the digest a record is about. A result without one
// (a list, a report) is printed as text; history prints one record id a
// line.
func quietForm(result any) ([]string, bool) {
	switch r := result.(type) {
	case *promote.Result:
		return []string{reference(r)}, true
	case *promote.RollbackResult:
		return []string{r.Reference}, true
	case *promote.Current:
		return []string{r.Reference}, true
	case *promote.ControlResult:
		switch {
		case r.Record != nil:
			return []string{r.Record.ID}, true
		case r.Already != nil:
			return []string{r.Already.ID}, true
		}
		return nil, true
	case *promote.Evaluation:
		return []string{r.Source.Resolved}, true
	case shown:
		return quietForm(r.Checked)
	case ledger.Checked:
		if r.Digest != "" {
			return []string{r.Digest}, true
		}
		return []string{r.ID}, true
	case historyResult:
		ids := make([]string, len(r.Records))
		for i, rec := range r.Records {
			ids[i] = rec.ID
		}
		return ids, true
	case build:
		return []string{r.String()}, true
	}
	return nil, false
}

// reference is REPOSITORY@DIGEST of a promotion's target.
func reference(r *promote.Result) string { return r.Repository + "@" + r.Digest }
