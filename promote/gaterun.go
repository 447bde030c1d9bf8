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

// evidenceFunc builds the evidence document from the verdicts of the gates
// judged so far.
type evidenceFunc func(ctx context.Context, judged []verdict.Result) ([]byte, error)

// runGates evaluates every gate of env on s in parallel, then, with the
// evidence document built from their verdicts (doc, when not nil), the
// gates that judge it (gates.EvidenceJudge). It returns the outcomes in
// configuration order, the document, and an error wrapping
// errs.ErrGateRejected when a gate said no; a gate that could not judge
// (a document that could not be built included) fails closed with a plain
// error (retryable, exit 1).
func runGates(ctx context.Context, env *config.Environment, s *gates.Subject, doc evidenceFunc) ([]verdict.Result, []byte, error) {
	out := make([]verdict.Result, len(env.Gates))
	var first, late []int
	for i, g := range env.Gates {
		if _, ok := g.Gate.(gates.EvidenceJudge); ok {
			late = append(late, i)
		} else {
			first = append(first, i)
		}
	}
	judgeAll(ctx, env.Gates, first, s, out)
	if doc == nil {
		for _, i := range late {
			out[i] = verdict.Result{Name: env.Gates[i].Kind, Verdict: verdict.Error, Reason: "no evidence document was built to judge (a bug in the engine)"}
		}
		return out, nil, foldVerdicts(out)
	}
	judged := make([]verdict.Result, 0, len(first))
	for _, i := range first {
		judged = append(judged, out[i])
	}
	b, err := doc(ctx, judged)
	if err != nil {
		for _, i := range late {
			out[i] = verdict.Result{Name: env.Gates[i].Kind, Verdict: verdict.Error, Reason: "building the evidence document: " + err.Error()}
		}
		if len(late) == 0 {
			return out, nil, errors.Join(foldVerdicts(out), fmt.Errorf("building the evidence document: %w", err))
		}
		return out, nil, foldVerdicts(out)
	}
	if len(late) > 0 {
		judgeAll(ctx, env.Gates, late, withEvidence(s, b), out)
	}
	return out, b, foldVerdicts(out)
}

// withEvidence is a copy of s carrying the evidence document.
func withEvidence(s *gates.Subject, doc []byte) *gates.Subject {
	c := *s
	c.Evidence = doc
	return &c
}

// judgeAll evaluates the gates of gs at indexes which, at most
// maxParallelGates at once, into out.
func judgeAll(ctx context.Context, gs []config.Gate, which []int, s *gates.Subject, out []verdict.Result) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelGates)
	for _, i := range which {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = evaluate(ctx, gs[i], s)
		}()
	}
	wg.Wait()
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
