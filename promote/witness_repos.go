package promote

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
)

// WitnessApp is what {app} stands for in an environment's repository
// pattern to make its default witness repository: test/{app} keeps the
// ledger's checkpoints in test/promote-ledger. No app should be called so.
const WitnessApp = "promote-ledger"

// witnessRepo is one repository checkpoints are published to.
type witnessRepo struct {
	repo name.Repository
	env  *config.Environment // whose default witness it is; nil for one ledger.witnesses names
}

func (w witnessRepo) String() string { return w.repo.Name() }

// WitnessRepositories lists the repositories the ledger's checkpoints are
// published to and read back from: ledger.witnesses, or by default the
// repository of every environment whose tags are immutable, with {app} =
// promote-ledger (WitnessApp).
func (e *Engine) WitnessRepositories() ([]string, error) {
	ws, err := e.witnessRepos(nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out, nil
}

// witnessRepos resolves repos (names given on the command line) or, when
// there are none, the configured or default witness repositories. A
// repository is listed once, whoever names it twice.
func (e *Engine) witnessRepos(repos []string) ([]witnessRepo, error) {
	var out []witnessRepo
	add := func(w witnessRepo) {
		for _, have := range out {
			if have.repo.Name() == w.repo.Name() {
				return
			}
		}
		out = append(out, w)
	}
	switch {
	case len(repos) > 0:
		for _, s := range repos {
			r, err := e.reg.Repository(s)
			if err != nil {
				return nil, fmt.Errorf("witness repository: %w", err)
			}
			add(witnessRepo{repo: r})
		}
	case len(e.cfg.Witnesses) > 0:
		for _, s := range e.cfg.Witnesses {
			r, err := e.reg.Repository(s)
			if err != nil {
				return nil, &errs.ConfigError{File: e.cfg.File, Field: "ledger.witnesses",
					Msg: fmt.Sprintf("%q is not a repository name such as registry.example/audit/promote-ledger", s)}
			}
			add(witnessRepo{repo: r})
		}
	default:
		for _, env := range e.cfg.Environments {
			if !env.Immutable() {
				continue
			}
			s, err := env.RepositoryFor(WitnessApp)
			if err != nil {
				return nil, fmt.Errorf("the witness repository of environment %s: %w", env.Name, err)
			}
			r, err := e.reg.Repository(s)
			if err != nil {
				return nil, fmt.Errorf("the witness repository of environment %s: %w", env.Name, err)
			}
			add(witnessRepo{repo: r, env: env})
		}
	}
	if len(out) == 0 {
		return nil, &errs.ConfigError{File: e.cfg.File, Field: "ledger.witnesses",
			Msg: "no repository to keep the ledger's checkpoints in: no environment has immutable tags, whose repository " +
				"(with {app} = " + WitnessApp + ") would be the default; set ledger.witnesses to a list of repositories"}
	}
	return out, nil
}
