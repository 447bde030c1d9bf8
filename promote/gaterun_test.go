package promote

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/config"
)

func outcome(name, v, reason string) verdict.Result {
	return verdict.Result{Name: name, Verdict: v, Reason: reason}
}

func TestFoldVerdicts(t *testing.T) {
	cases := []struct {
		name     string
		outcomes []verdict.Result
		rejected bool   // wraps errs.ErrGateRejected
		msg      string // the whole message; "" = no error
	}{
		{"no gates", nil, false, ""},
		{"all pass", []verdict.Result{outcome("labels", verdict.Pass, "ok"), outcome("nonroot", verdict.Pass, "ok")}, false, ""},
		{"one fail", []verdict.Result{outcome("labels", verdict.Pass, "ok"), outcome("nonroot", verdict.Fail, "runs as root")},
			true, "gate rejected by nonroot: runs as root"},
		{"one error", []verdict.Result{outcome("signed", verdict.Error, "fetching signature: timeout"), outcome("labels", verdict.Pass, "ok")},
			false, "gates could not be evaluated, so the promotion is refused (fail closed): signed: fetching signature: timeout"},
		{"two errors in configuration order", []verdict.Result{outcome("scan", verdict.Error, "no report"), outcome("signed", verdict.Error, "timeout")},
			false, "gates could not be evaluated, so the promotion is refused (fail closed): scan: no report; signed: timeout"},
		{"fail and error: the rejection wins", []verdict.Result{outcome("signed", verdict.Error, "timeout"), outcome("nonroot", verdict.Fail, "runs as root")},
			true, "gate rejected by nonroot: runs as root"},
		{"every rejection in configuration order", []verdict.Result{outcome("nonroot", verdict.Fail, "runs as root"),
			outcome("labels", verdict.Pass, "ok"), outcome("maxage", verdict.Fail, "built 400 days ago"), outcome("scan", verdict.Error, "no report")},
			true, "gate rejected by nonroot: runs as root; maxage: built 400 days ago"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := foldVerdicts(c.outcomes)
			if c.msg == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, c.msg, err.Error())
			assert.Equal(t, c.rejected, errors.Is(err, errs.ErrGateRejected))
			assert.Equal(t, c.rejected, isGateRejection(err))
		})
	}
}

// fakeGate answers with a fixed verdict, error or panic.
type fakeGate struct {
	v     gates.Verdict
	err   error
	panic any
}

func (g fakeGate) Evaluate(context.Context, *gates.Subject) (gates.Verdict, error) {
	if g.panic != nil {
		panic(g.panic)
	}
	return g.v, g.err
}

func TestEvaluateOneGate(t *testing.T) {
	ev := map[string]any{"user": "root"}
	cases := []struct {
		name string
		gate fakeGate
		want verdict.Result
	}{
		{"pass", fakeGate{v: gates.Verdict{Verdict: verdict.Pass, Reason: "labelled", Evidence: ev}},
			verdict.Result{Name: "g", Verdict: verdict.Pass, Reason: "labelled", Evidence: ev}},
		{"fail", fakeGate{v: gates.Verdict{Reason: "runs as root", Evidence: ev}},
			verdict.Result{Name: "g", Verdict: verdict.Fail, Reason: "runs as root", Evidence: ev}},
		{"error drops the verdict", fakeGate{v: gates.Verdict{Verdict: verdict.Pass, Reason: "ignored", Evidence: ev}, err: errors.New("fetch failed")},
			verdict.Result{Name: "g", Verdict: verdict.Error, Reason: "fetch failed"}},
		{"panic is an error", fakeGate{panic: "nil map"},
			verdict.Result{Name: "g", Verdict: verdict.Error, Reason: "gate panicked: nil map"}},
		{"empty reason on a pass", fakeGate{v: gates.Verdict{Verdict: verdict.Pass}},
			verdict.Result{Name: "g", Verdict: verdict.Pass, Reason: "no reason given"}},
		{"empty reason on a fail", fakeGate{v: gates.Verdict{}},
			verdict.Result{Name: "g", Verdict: verdict.Fail, Reason: "no reason given"}},
		{"empty error message", fakeGate{err: errors.New("")},
			verdict.Result{Name: "g", Verdict: verdict.Error, Reason: "no reason given"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := evaluate(context.Background(), config.Gate{Kind: "g", Gate: c.gate}, &gates.Subject{})
			assert.Equal(t, c.want, got)
		})
	}
}

// runGates keeps configuration order whatever order the gates finish in,
// and folds the outcomes as foldVerdicts does.
func TestRunGatesKeepsOrderAndFolds(t *testing.T) {
	env := &config.Environment{}
	want := make([]verdict.Result, 0, 9)
	for i := range 9 {
		k := string(rune('a' + i))
		g := fakeGate{v: gates.Verdict{Verdict: verdict.Of(i != 4), Reason: "r" + k}}
		if i == 7 {
			g = fakeGate{panic: "boom"}
		}
		env.Gates = append(env.Gates, config.Gate{Kind: k, Gate: g})
		want = append(want, evaluate(context.Background(), env.Gates[i], &gates.Subject{}))
	}
	out, _, err := runGates(context.Background(), env, &gates.Subject{}, nil)
	assert.Equal(t, want, out)
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Equal(t, "gate rejected by e: re", err.Error())
}
