package promote

import (
	"context"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/ledger"
)

// ResultMediaType versions the JSON document promote prints for a command.
const ResultMediaType = "application/vnd.promote.result.v1+json"

// Request asks for one promotion.
type Request struct {
	Env     string
	Ref     Ref
	Tags    []string // --tag
	DryRun  bool
	Reason  string
	Reports []gates.Report // --scan-report, for the scan gate
	// BreakGlass is the justification to pass a closed window or a
	// freeze where the environment allows it (--break-glass).
	BreakGlass string
}

// Result says what a promotion did, or would do in a dry run. It is
// returned alongside a rejection error too, carrying the gate verdicts.
type Result struct {
	App        string           `json:"app"`
	Env        string           `json:"env"`
	From       string           `json:"from"`
	Source     ledger.Source    `json:"source"`
	Digest     string           `json:"digest"`
	Repository string           `json:"repository"`
	Previous   string           `json:"previous,omitempty"`
	Gates      []verdict.Result `json:"gates"`
	// Policies are the release policies' verdicts (policies.go), each
	// that the environment has, in the order checked.
	Policies []verdict.Result `json:"policies,omitempty"`
	// BreakGlass is the justification that passed a window or a freeze.
	BreakGlass string `json:"breakGlass,omitempty"`
	// Judged: the gates ran. A run refused or failed before them (a path
	// violation, a tree that cannot be judged) has no verdicts.
	Judged      bool           `json:"judged"`
	Plan        *Plan          `json:"plan,omitempty"`
	Copy        *CopyStats     `json:"copy,omitempty"`
	Record      *ledger.Record `json:"record,omitempty"`
	Attestation string         `json:"attestation,omitempty"` // digest of the signed promotion attestation attached
	// Pointer is the environment's pointer tag (REPOSITORY:TAG) the run
	// moved to the digest, or would move in a dry run.
	Pointer     string  `json:"pointer,omitempty"`
	DryRun      bool    `json:"dryRun"`
	NothingToDo bool    `json:"nothingToDo"`
	Seconds     float64 `json:"seconds"`
}

// Promote runs one promotion through its phases (run.go): resolve, the
// release policies, inspect, plan, judge and admit read only; then, under the ledger lock, copy, tag,
// verify and record; then attest. A refusal (the path, the tree, the
// gates, a tag conflict) is recorded as a rejected attempt, here and
// nowhere else, and returned as an error wrapping errs.ErrGateRejected or
// errs.ErrConflict, with nothing written to the target.
func (e *Engine) Promote(ctx context.Context, req Request) (*Result, error) {
	start := e.now()
	r, err := e.newRun(req)
	if err != nil {
		return nil, err
	}
	defer func() { r.res.Seconds = e.now().Sub(start).Seconds() }()
	e.rd.Warm(ctx, r.dst) // the target is asked once the source is read; its ping need not wait till then
	defer func() {
		if r.early != nil {
			r.early.stop() // a run refused before its plan leaves no survey behind
		}
	}()
	err = r.through(ctx, r.resolve, r.freeze, r.window, r.soak, r.inspect, r.revoked, r.approvals, r.plan, r.judge, r.admit)
	if err == nil && !r.done {
		err = r.write(ctx)
	}
	err = r.settle(ctx, r.interrupted(ctx, err))
	r.rec.release()
	if err == nil {
		err = r.attest(ctx)
	}
	err = e.placeReach(req.Ref.App, err)
	if err != nil && !r.shown {
		return nil, err
	}
	return r.res, err
}
