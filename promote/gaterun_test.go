package promote

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
)

func outcome(name, verdict, reason string) GateOutcome {
	return GateOutcome{Name: name, Verdict: verdict, Reason: reason}
}

func TestFoldVerdicts(t *testing.T) {
	cases := []struct {
		name     string
		outcomes []GateOutcome
		rejected bool   // wraps errs.ErrGateRejected
		msg      string // the whole message; "" = no error
	}{
		{"no gates", nil, false, ""},
		{"all pass", []GateOutcome{outcome("labels", VerdictPass, "ok"), outcome("nonroot", VerdictPass, "ok")}, false, ""},
		{"one fail", []GateOutcome{outcome("labels", VerdictPass, "ok"), outcome("nonroot", VerdictFail, "runs as root")},
			true, "gate rejected by nonroot: runs as root"},
		{"one error", []GateOutcome{outcome("signed", VerdictError, "fetching signature: timeout"), outcome("labels", VerdictPass, "ok")},
			false, "gates could not be evaluated, so the promotion is refused (fail closed): signed: fetching signature: timeout"},
		{"two errors in configuration order", []GateOutcome{outcome("scan", VerdictError, "no report"), outcome("signed", VerdictError, "timeout")},
			false, "gates could not be evaluated, so the promotion is refused (fail closed): scan: no report; signed: timeout"},
		{"fail and error: the rejection wins", []GateOutcome{outcome("signed", VerdictError, "timeout"), outcome("nonroot", VerdictFail, "runs as root")},
			true, "gate rejected by nonroot: runs as root"},
		{"every rejection in configuration order", []GateOutcome{outcome("nonroot", VerdictFail, "runs as root"),
			outcome("labels", VerdictPass, "ok"), outcome("maxage", VerdictFail, "built 400 days ago"), outcome("scan", VerdictError, "no report")},
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
		want GateOutcome
	}{
		{"pass", fakeGate{v: gates.Verdict{Pass: true, Reason: "labelled", Evidence: ev}},
			GateOutcome{Name: "g", Verdict: VerdictPass, Reason: "labelled", Evidence: ev}},
		{"fail", fakeGate{v: gates.Verdict{Reason: "runs as root", Evidence: ev}},
			GateOutcome{Name: "g", Verdict: VerdictFail, Reason: "runs as root", Evidence: ev}},
		{"error drops the verdict", fakeGate{v: gates.Verdict{Pass: true, Reason: "ignored", Evidence: ev}, err: errors.New("fetch failed")},
			GateOutcome{Name: "g", Verdict: VerdictError, Reason: "fetch failed"}},
		{"panic is an error", fakeGate{panic: "nil map"},
			GateOutcome{Name: "g", Verdict: VerdictError, Reason: "gate panicked: nil map"}},
		{"empty reason on a pass", fakeGate{v: gates.Verdict{Pass: true}},
			GateOutcome{Name: "g", Verdict: VerdictPass, Reason: "no reason given"}},
		{"empty reason on a fail", fakeGate{v: gates.Verdict{}},
			GateOutcome{Name: "g", Verdict: VerdictFail, Reason: "no reason given"}},
		{"empty error message", fakeGate{err: errors.New("")},
			GateOutcome{Name: "g", Verdict: VerdictError, Reason: "no reason given"}},
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
	want := make([]GateOutcome, 0, 9)
	for i := range 9 {
		k := string(rune('a' + i))
		g := fakeGate{v: gates.Verdict{Pass: i != 4, Reason: "r" + k}}
		if i == 7 {
			g = fakeGate{panic: "boom"}
		}
		env.Gates = append(env.Gates, config.Gate{Kind: k, Gate: g})
		want = append(want, evaluate(context.Background(), env.Gates[i], &gates.Subject{}))
	}
	out, err := runGates(context.Background(), env, &gates.Subject{})
	assert.Equal(t, want, out)
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Equal(t, "gate rejected by e: re", err.Error())
}
