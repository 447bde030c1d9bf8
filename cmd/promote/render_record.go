package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/promote-dev/promote/promote/ledger"
)

// printRecord prints one ledger record for a person, gate evidence included,
// marked first if it does not check out: its fields are then only what its
// body claims.
func printRecord(w io.Writer, c ledger.Checked) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-10s %s\n", k, v)
		}
	}
	if !c.Verified {
		fmt.Fprintf(w, "%s\n", notCheckedOut(c))
	}
	r := c.Record
	line("record", fmt.Sprintf("%s (%s/%s #%d)", r.ID, scopeName(r.Env, "every environment"), scopeName(r.App, "every app"), r.Seq))
	line("kind", string(r.Kind))
	line("time", r.Time.UTC().Format(time.RFC3339Nano))
	line("digest", r.Digest)
	line("from", r.From)
	line("source", sourceText(r.Source))
	line("targets", strings.Join(r.Targets, ", "))
	line("previous", r.Previous)
	line("actor", actorText(r.Actor))
	if r.CI != nil {
		line("ci", strings.Join(nonEmpty(r.CI.Provider, r.CI.Pipeline, r.CI.Job, r.CI.Commit, r.CI.URL), " "))
	}
	line("reason", r.Reason)
	line("rejection", r.Rejection)
	if r.BreakGlass != "" {
		fmt.Fprintf(w, "%-10s %s\n", "breakglass", paint(w, "BREAK-GLASS")+": "+r.BreakGlass)
	}
	for _, p := range r.Policies {
		fmt.Fprintf(w, "policy     %s %s: %s\n", verdictWord(w, p.Verdict), p.Name, p.Reason)
	}
	for _, g := range r.Gates {
		fmt.Fprintf(w, "gate       %s %s: %s\n", verdictWord(w, g.Verdict), g.Name, g.Reason)
		if len(g.Evidence) > 0 {
			b, err := json.MarshalIndent(g.Evidence, "             ", "  ")
			if err == nil {
				fmt.Fprintf(w, "  evidence   %s\n", b)
			}
		}
	}
	if len(r.Evidence) > 0 {
		sum := sha256.Sum256(r.Evidence)
		line("evidence", fmt.Sprintf("sha256:%x, %d bytes (the policy gates' input: promote show %s --output json prints it)", sum, len(r.Evidence), r.ID))
	}
	line("prev_hash", r.PrevHash)
	line("hash", r.Hash)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// notCheckedOut is the mark of a record that does not check out.
func notCheckedOut(c ledger.Checked) string {
	return "DOES NOT CHECK OUT: " + c.Problem + "; " + ledger.VerifyHint
}

// scopeName is an app or environment name as a person reads it: the
// control chains' "*" is all of them.
func scopeName(name, all string) string {
	if name == ledger.AllEnvs {
		return all
	}
	return name
}
