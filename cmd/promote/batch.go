package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

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

// batchError summarises the failures of a batch; it unwraps to the most
// serious one, which decides the exit code: an error (1) over a conflict
// (4) over a gate rejection (3).
type batchError struct {
	failed, total int
	worst         error
}

func (e *batchError) Error() string {
	return fmt.Sprintf("%d of %d promotions failed; the most serious: %v", e.failed, e.total, e.worst)
}

func (e *batchError) Unwrap() error { return e.worst }

func severity(err error) int {
	switch exitCode(err) {
	case ExitError:
		return 4
	case ExitConflict:
		return 3
	case ExitRejected:
		return 2
	case ExitUsage:
		return 1
	}
	return 0
}

// promoteMany promotes several APPs into env, jobs at a time, sharing one
// engine (its registry connections, credentials and ledger handle). Each
// promotion stands alone: one failing changes nothing for the others.
func promoteMany(ctx context.Context, ss *session, env string, sources []string, jobs int, base promote.Request) (*batchResult, error) {
	e, err := ss.engine.Config().Env(env)
	if err != nil {
		return nil, err
	}
	refs := make([]promote.Ref, len(sources))
	for i, s := range sources { // every argument checked before anything runs
		r, err := promote.ParseRef(s)
		if err == nil {
			_, err = e.RepositoryFor(r.App)
		}
		if err != nil {
			return nil, fmt.Errorf("APP %q: %w", s, err)
		}
		refs[i] = r
	}
	seen := map[string]string{}
	for i, r := range refs {
		if prev, ok := seen[r.App]; ok {
			return nil, errs.Usagef("%s and %s name the same app %s: promote one source per app", prev, sources[i], r.App)
		}
		seen[r.App] = sources[i]
	}
	out := &batchResult{Env: env, Promotions: make([]batchItem, len(refs))}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			req := base
			req.Env, req.Ref = env, refs[i]
			res, err := ss.engine.Promote(ctx, req)
			out.Promotions[i] = batchItem{Source: sources[i], OK: err == nil, ExitCode: exitCode(err), Result: res, err: err}
			if err != nil {
				out.Promotions[i].Error = err.Error()
			}
		}(i)
	}
	wg.Wait()
	var worst error
	for _, it := range out.Promotions {
		if it.err == nil {
			out.Done++
			continue
		}
		out.Failed++
		if worst == nil || severity(it.err) > severity(worst) {
			worst = it.err
		}
	}
	if worst != nil {
		return out, &batchError{failed: out.Failed, total: len(refs), worst: worst}
	}
	return out, nil
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
func toMany(c *cli.Context, ss *session, env string, sources []string, jobs int) (any, func(io.Writer), error) {
	if len(c.StringSlice("tag")) > 0 {
		return nil, nil, errs.Usagef("--tag names the tags of one image; with several APPs each writes the tags its source carries (promote them one by one to add tags)")
	}
	if len(c.StringSlice("scan-report")) > 0 {
		return nil, nil, errs.Usagef("--scan-report with several APPs: promote those apps one by one (a report is bound to one image)")
	}
	res, err := promoteMany(c.Context, ss, env, sources, jobs,
		promote.Request{DryRun: c.Bool("dry-run"), Reason: c.String("reason")})
	if res == nil {
		return nil, nil, err
	}
	var be *batchError
	if err != nil && !errors.As(err, &be) {
		return nil, nil, err
	}
	return res, func(w io.Writer) { printBatch(w, res) }, err
}
