package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

// batchItem is one APP of `promote to ENV APP...`.
type batchItem struct {
	Source   string          `json:"source"`
	OK       bool            `json:"ok"`
	ExitCode int             `json:"exitCode"`
	Error    string          `json:"error,omitempty"`
	Result   *promote.Result `json:"result,omitempty"`
	err      error
}

// batchResult is the result of promoting several APPs in one run.
type batchResult struct {
	Env        string      `json:"env"`
	Done       int         `json:"done"`
	Failed     int         `json:"failed"`
	Promotions []batchItem `json:"promotions"`
}

// newBatchResult is the output of a PromoteAll: each item with its exit
// code, and the counts.
func newBatchResult(env string, items []promote.BatchItem) *batchResult {
	out := &batchResult{Env: env, Promotions: make([]batchItem, len(items))}
	for i, it := range items {
		out.Promotions[i] = batchItem{Source: it.Source, OK: it.Err == nil, ExitCode: exitCode(it.Err), Result: it.Result, err: it.Err}
		if it.Err != nil {
			out.Promotions[i].Error = it.Err.Error()
			out.Failed++
		} else {
			out.Done++
		}
	}
	return out
}

// printBatch writes one block per APP, in the order given.
func printBatch(w io.Writer, b *batchResult) {
	for _, it := range b.Promotions {
		switch {
		case it.Result != nil:
			printPromotion(w, it.Result)
			if it.err != nil {
				fmt.Fprintf(w, "  failed (exit %d): %v\n", it.ExitCode, it.err)
			}
		default:
			fmt.Fprintf(w, "%s: failed (exit %d): %v\n", it.Source, it.ExitCode, it.err)
		}
	}
	fmt.Fprintf(w, "%d promoted or already there, %d failed, of %d\n", b.Done, b.Failed, len(b.Promotions))
}

// toMany is the action of `promote to` with several APPs.
func toMany(c *cli.Context, eng *promote.Engine, env string, sources []string, jobs int) (any, func(io.Writer), error) {
	if len(c.StringSlice("tag")) > 0 {
		return nil, nil, errs.Usagef("--tag names the tags of one image; with several APPs each writes the tags its source carries (promote them one by one to add tags)")
	}
	if len(c.StringSlice("scan-report")) > 0 {
		return nil, nil, errs.Usagef("--scan-report with several APPs: promote those apps one by one (a report is bound to one image)")
	}
	items, err := eng.PromoteAll(c.Context, env, sources, jobs,
		promote.Request{DryRun: c.Bool("dry-run"), Reason: c.String("reason"), BreakGlass: c.String("break-glass")})
	var be *promote.BatchError
	if items == nil || err != nil && !errors.As(err, &be) {
		return nil, nil, err
	}
	res := newBatchResult(env, items)
	return res, func(w io.Writer) { printBatch(w, res) }, err
}
