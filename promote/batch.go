package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/promote-dev/promote/errs"
)

// BatchItem is one source of a PromoteAll, in the order given: its result
// (nil when it failed before resolving) and its failure, if any.
type BatchItem struct {
	Source string
	Result *Result
	Err    error
}

// BatchError summarises the failures of a PromoteAll. It unwraps to the
// most serious one (errs.Worse), which decides the exit code.
type BatchError struct {
	Failed, Total int
	Worst         error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("%d of %d promotions failed; the most serious: %v", e.Failed, e.Total, e.Worst)
}

func (e *BatchError) Unwrap() error { return e.Worst }

// PromoteAll promotes several sources (APP[:TAG|@DIGEST]) into env, jobs at
// a time, over this engine's connections, credentials and ledger handle;
// base gives the request's other fields. Every source is checked before any
// runs (a bad one, or two naming one app, is a usage error and nothing
// runs). Each promotion then stands alone: one failing changes nothing for
// the others. The error is a *BatchError when any failed.
func (e *Engine) PromoteAll(ctx context.Context, env string, sources []string, jobs int, base Request) ([]BatchItem, error) {
	refs, err := e.batchRefs(env, sources)
	if err != nil {
		return nil, err
	}
	items := make([]BatchItem, len(refs))
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for i := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req := base
			req.Env, req.Ref = env, refs[i]
			res, err := e.Promote(ctx, req)
			items[i] = BatchItem{Source: sources[i], Result: res, Err: err}
		}()
	}
	wg.Wait()
	be := &BatchError{Total: len(items)}
	for _, it := range items {
		if it.Err != nil {
			be.Failed++
			if errs.Worse(it.Err, be.Worst) {
				be.Worst = it.Err
			}
		}
	}
	if be.Failed > 0 {
		return items, be
	}
	return items, nil
}

// batchRefs parses every source and checks it names an app env can hold,
// once each.
func (e *Engine) batchRefs(env string, sources []string) ([]Ref, error) {
	en, err := e.cfg.Env(env)
	if err != nil {
		return nil, err
	}
	refs := make([]Ref, len(sources))
	seen := map[string]string{}
	for i, s := range sources {
		r, err := ParseRef(s)
		if err == nil {
			_, err = en.RepositoryFor(r.App)
		}
		if err != nil {
			return nil, fmt.Errorf("APP %q: %w", s, err)
		}
		if prev, ok := seen[r.App]; ok {
			return nil, errs.Usagef("%s and %s name the same app %s: promote one source per app", prev, s, r.App)
		}
		seen[r.App], refs[i] = s, r
	}
	return refs, nil
}
