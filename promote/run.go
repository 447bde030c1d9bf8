package promote

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// run is one promotion on its way through the phases of the flow, each a
// method in a file of its own: resolve (resolve.go); the release policies
// freeze (freeze.go), window (window.go) and soak (soak.go); inspect
// (inspect.go); revoked (revoked.go) and approvals (approvals.go), which
// need the manifest tree; plan (plan.go), judge (judge.go), admit
// (plan.go), then under the ledger
// lock replan, copy, tag, verify and record (write.go and the files named
// after them), and attest (attesting.go). Each phase leaves what it found
// here for the next; none takes more than the context.
type run struct {
	e   *Engine
	req Request
	env *config.Environment
	dst name.Repository
	res *Result

	src  *source        // resolve
	root *node          // inspect: the manifest tree
	subj *gates.Subject // inspect: what the gates judge
	tags []string       // inspect: the environment tags to write
	// evidence is the evidence document the gates built (judge), kept
	// in the record and carried by the attestation; nil when the
	// environment neither judges nor attests it.
	evidence []byte
	st       *targetState // plan: what the target holds
	// rootPending is whether the copy left the root manifest to the first
	// tag write (rootByTag).
	rootPending bool
	// early is the survey of the target, started by inspect once the
	// content is known and finished by the plan.
	early *surveying
	// current is the environment's record when there is nothing to do.
	current *ledger.Record
	rec     *recorder // the one writer of the run's records
	// glassApprovals is how many approvals a break-glass pass of a
	// freeze or a window requires (breakGlass.approvals): the approvals
	// phase counts at least this many, with or without an approvals
	// block's required.
	glassApprovals int
	// heldBack are refusals of a freeze or a window waiting for the plan:
	// the environment already runs the digest, so a run with nothing to
	// do passes (holdBack).
	heldBack []func() error

	// phase is the phase under way, for an interruption's message.
	phase string
	// done ends the run early without error: a dry run, or nothing to do.
	done bool
	// shown is whether the result goes back with an error: from the
	// point the run has something to show (a refusal, or the plan).
	shown bool
}

// refusal is a terminal no: the path, the tree, the gates, a tag
// conflict, and every later policy. Promote records it, once, as a
// rejected attempt; the caller sees the cause.
type refusal struct{ cause error }

func (r *refusal) Error() string { return r.cause.Error() }
func (r *refusal) Unwrap() error { return r.cause }

// refuse marks cause as a refusal.
func refuse(cause error) error { return &refusal{cause: cause} }

// newRun checks what a promotion needs before any phase: the environment,
// its attestation key (a key that cannot sign fails before anything is
// written) and the target repository.
func (e *Engine) newRun(req Request) (*run, error) {
	env, err := e.cfg.Env(req.Env)
	if err != nil {
		return nil, err
	}
	if env.Attest != nil && !req.DryRun {
		if _, err := e.signer(env); err != nil {
			return nil, err
		}
	}
	if req.Ref.App == WitnessApp && len(e.cfg.Witnesses) == 0 {
		return nil, errs.Usagef("app name %q is reserved: %s in each immutable environment holds the ledger's "+
			"published checkpoints; rename the app, or name other witness repositories in ledger.witnesses", WitnessApp, WitnessApp)
	}
	dstStr, err := env.RepositoryFor(req.Ref.App)
	if err != nil {
		return nil, err
	}
	dst, err := e.reg.Repository(dstStr)
	if err != nil {
		return nil, err
	}
	res := &Result{App: req.Ref.App, Env: env.Name, From: env.From, Repository: dst.Name(), DryRun: req.DryRun}
	return &run{e: e, req: req, env: env, dst: dst, res: res, rec: e.recorder(req.Ref.App, env.Name)}, nil
}

// through runs phases in order until one fails or the run is done,
// logging each (at debug level: --verbose) with how long it took.
func (r *run) through(ctx context.Context, phases ...func(context.Context) error) error {
	for _, phase := range phases {
		if r.done {
			return nil
		}
		start := time.Now()
		r.phase = phaseName(phase)
		err := phase(ctx)
		if r.e.log.Enabled(ctx, slog.LevelDebug) { // the attributes cost allocations on every run
			attrs := []any{"phase", r.phase, "app", r.res.App, "env", r.env.Name, "seconds", time.Since(start).Seconds()}
			if err != nil {
				r.e.log.Debug("phase failed", append(attrs, "error", err)...)
			} else {
				r.e.log.Debug("phase done", attrs...)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// phaseName is the name of a run's phase method, from its method value
// ("promote.(*run).copy-fm" is "copy").
func phaseName(phase func(context.Context) error) string {
	n := runtime.FuncForPC(reflect.ValueOf(phase).Pointer()).Name()
	n = strings.TrimSuffix(n, "-fm")
	return n[strings.LastIndexByte(n, '.')+1:]
}

// settle is where a run's refusal is recorded, the one place: as a
// rejected attempt under the lock (taken now if the refusal came before
// it), unless it is a dry run or the source was never resolved. It
// returns the cause, joined with whatever kept it from the ledger.
func (r *run) settle(ctx context.Context, err error) error {
	var no *refusal
	if !errors.As(err, &no) {
		return err
	}
	r.shown = true
	if r.req.DryRun || r.res.Digest == "" {
		return no.cause
	}
	return r.rec.refused(ctx, r.rejection(no.cause), no.cause)
}
