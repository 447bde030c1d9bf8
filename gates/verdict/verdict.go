// Package verdict is a gate's judgement, in the one shape it keeps from the
// gate that gives it, through the promotion's result and its ledger record,
// to the signed promotion attestation. It depends on nothing, so the
// ledger and the attestation can hold it without knowing any gate.
package verdict

import "unicode/utf8"

// The verdicts. A gate answers Pass or Fail; the engine gives Error to a
// gate that could not judge (the promotion then fails closed).
const (
	Pass  = "pass"
	Fail  = "fail"
	Error = "error"
)

// Result is one gate's verdict on one promotion. Its JSON form is part of
// every ledger record's hash: the field names and tags never change.
type Result struct {
	Name     string         `json:"name"`
	Verdict  string         `json:"verdict"` // pass | fail | error
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence,omitempty"`
}

// Passed reports whether the gate said yes.
func (r Result) Passed() bool { return r.Verdict == Pass }

// Of is Pass when pass holds, else Fail.
func Of(pass bool) string {
	if pass {
		return Pass
	}
	return Fail
}

// Clip cuts s to at most n bytes on a rune boundary, marking the cut with
// "…": the one way a reason or message is shortened for a record or an
// attestation.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
