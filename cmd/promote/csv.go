package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/promote-dev/promote/promote/ledger"
)

// csvColumns are history's spreadsheet columns, one record a row.
var csvColumns = []string{"time", "env", "app", "seq", "kind", "digest", "tags", "previous", "from", "source",
	"actor", "actor_via", "aws", "aws_via", "ci_provider", "ci_pipeline", "ci_job", "ci_commit", "reason", "rejection", "gates", "id", "prev_hash", "hash",
	"verified", "problem", "policies", "break_glass"}

// writeCSV writes records as CSV with a header row; verified is false, and
// problem says why, for a record that does not check out. actor_via and
// aws_via say how each identity was established: only aws-sts is
// authenticated. Columns are only ever added at the end.
func writeCSV(w io.Writer, recs []ledger.Checked) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, r := range recs {
		var ci ledger.CI
		if r.CI != nil {
			ci = *r.CI
		}
		var gs, ps []string
		for _, g := range r.Gates {
			gs = append(gs, g.Name+"="+g.Verdict)
		}
		for _, p := range r.Policies {
			ps = append(ps, p.Name+"="+p.Verdict)
		}
		row := []string{r.Time.UTC().Format(time.RFC3339Nano), r.Env, r.App, fmt.Sprint(r.Seq), string(r.Kind), r.Digest,
			strings.Join(r.Tags, " "), r.Previous, r.From, r.Source.Resolved, r.Actor.Identity, r.Actor.IdentityVia, r.Actor.AWS, r.Actor.AWSVia, ci.Provider, ci.Pipeline,
			ci.Job, ci.Commit, r.Reason, r.Rejection, strings.Join(gs, " "), r.ID, r.PrevHash, r.Hash,
			fmt.Sprint(r.Verified), r.Problem, strings.Join(ps, " "), r.BreakGlass}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
