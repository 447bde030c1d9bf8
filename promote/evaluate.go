package promote

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/ledger"
)

// Evaluation is the result of running an environment's gates without promoting.
type Evaluation struct {
	App    string           `json:"app"`
	Env    string           `json:"env"`
	Digest string           `json:"digest"`
	Source ledger.Source    `json:"source"`
	Gates  []verdict.Result `json:"gates"`
	Path   string           `json:"path"` // "ok" or why the path forbids this digest
	// Evidence is the evidence document the policy gates judged; absent
	// when the environment has none.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// Evaluate runs env's gates on the source ref would resolve to, copying and
// recording nothing. A rejection returns the evaluation and an error
// wrapping errs.ErrGateRejected; a path violation is reported in Path and
// returned as the error only when every gate passed.
func (e *Engine) Evaluate(ctx context.Context, envName string, ref Ref, reports []gates.Report) (_ *Evaluation, err error) {
	defer func() { err = e.placeReach(ref.App, err) }()
	env, err := e.cfg.Env(envName)
	if err != nil {
		return nil, err
	}
	if _, err := env.RepositoryFor(ref.App); err != nil {
		return nil, err
	}
	src, err := e.resolve(ctx, env, ref)
	var pe *PathError
	pathErr := error(nil)
	if errors.As(err, &pe) {
		pathErr, err = err, nil
	}
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{App: ref.App, Env: env.Name, Digest: src.manifest.Digest.String(), Path: "ok",
		Source: ledger.Source{Given: src.given, Resolved: src.repo.Digest(src.manifest.Digest.String()).String()}}
	if pathErr != nil {
		ev.Path = pathErr.Error()
	}
	_, subj, err := e.inspect(ctx, src, nil)
	if err != nil {
		return nil, err
	}
	subj.Reports = reports
	var doc evidenceFunc
	if evidenceWanted(env, false) {
		repo, _ := env.RepositoryFor(ref.App) // checked above
		doc = e.evidenceOf(ctx, evidenceFacts{env: env, app: ref.App, repository: repo, source: ev.Source, srcRepo: src.repo.Name(), subj: subj})
	}
	ev.Gates, ev.Evidence, err = runGates(ctx, env, subj, doc)
	if err != nil {
		return ev, err
	}
	return ev, pathErr
}
