package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/config"
)

// maxParallelGates bounds how many gates judge at once.
const maxParallelGates = 4

// runGates evaluates every gate of env on s in parallel. It returns the
// outcomes in configuration order and an error wrapping errs.ErrGateRejected
// when a gate said no; a gate that could not judge fails closed with a
// plain error (retryable, exit 1).
func runGates(ctx context.Context, env *config.Environment, s *gates.Subject) ([]verdict.Result, error) {
	out := make([]verdict.Result, len(env.Gates))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelGates)
	for i, g := range env.Gates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = evaluate(ctx, g, s)
		}()
	}
	wg.Wait()
	return out, foldVerdicts(out)
}

// foldVerdicts turns the outcomes, in configuration order, into the
// promotion's answer: nil when every gate passed; an error wrapping
// errs.ErrGateRejected naming every gate that said no (a rejection wins
// over a gate that could not judge); otherwise a plain error naming every
// gate that could not judge (fail closed, retryable).
func foldVerdicts(outcomes []verdict.Result) error {
	var failed, broken []string
	for _, o := range outcomes {
		switch o.Verdict {
		case verdict.Fail:
			failed = append(failed, o.Name+": "+o.Reason)
		case verdict.Error:
			broken = append(broken, o.Name+": "+o.Reason)
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("%w by %s", errs.ErrGateRejected, strings.Join(failed, "; "))
	case len(broken) > 0:
		return fmt.Errorf("gates could not be evaluated, so the promotion is refused (fail closed): %s", strings.Join(broken, "; "))
	}
	return nil
}

// evaluate asks one gate, named after its kind: an error or a panic is an
// Error verdict; anything but a pass is a Fail.
func evaluate(ctx context.Context, g config.Gate, s *gates.Subject) (o verdict.Result) {
	o.Name = g.Kind
	defer func() {
		if r := recover(); r != nil {
			o.Verdict, o.Reason = verdict.Error, fmt.Sprintf("gate panicked: %v", r)
		}
	}()
	v, err := g.Gate.Evaluate(ctx, s)
	switch {
	case err != nil:
		o.Verdict, o.Reason = verdict.Error, err.Error()
	case v.Passed():
		o.Verdict, o.Reason, o.Evidence = verdict.Pass, v.Reason, v.Evidence
	default:
		o.Verdict, o.Reason, o.Evidence = verdict.Fail, v.Reason, v.Evidence
	}
	if o.Reason == "" {
		o.Reason = "no reason given"
	}
	return o
}

func isGateRejection(err error) bool { return errors.Is(err, errs.ErrGateRejected) }
