package promote

import (
	"errors"
	"strings"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/registry"
)

// placedError is a registry that could not be reached or let promote in
// (a *registry.ReachError), told as the environment whose repository it
// is: err's message with the ReachError's part told anew. It wraps err, so
// errors.Is and errors.As (and the exit code) see the same chain;
// errors.As finds the placed ReachError first.
type placedError struct {
	msg   string
	reach *registry.ReachError
	err   error
}

func (p *placedError) Error() string   { return p.msg }
func (p *placedError) Unwrap() []error { return []error{p.reach, p.err} }

// placeReach is where a run's registry error learns the environment: when
// err holds a *registry.ReachError for app's repository in one of the
// configured environments, it returns err told with that environment's
// name and `repository:` line, and whether the environment's credentials
// come from AWS. Any other err is returned as it is.
func (e *Engine) placeReach(app string, err error) error {
	var re *registry.ReachError
	if !errors.As(err, &re) || re.Env != "" {
		return err
	}
	env := e.envOfReach(app, re)
	if env == nil {
		return err
	}
	_, aws := e.ecrRegistry(env.Name)
	p := re.Placed(env.Name, env.Repository, aws)
	msg := err.Error()
	if told := strings.Replace(msg, re.Error(), p.Error(), 1); told != msg {
		msg = told
	} else {
		msg = p.Error()
	}
	return &placedError{msg: msg, reach: p, err: err}
}

// envOfReach is the environment whose repository of app re failed on, or,
// when re names no repository, the only environment on re's host.
func (e *Engine) envOfReach(app string, re *registry.ReachError) *config.Environment {
	var onHost []*config.Environment
	for _, env := range e.cfg.Environments {
		_, repo, err := e.repository(env.Name, app)
		if err != nil {
			continue
		}
		if re.Repository != "" && repo.Name() == re.Repository {
			return env
		}
		if repo.RegistryStr() == re.Host {
			onHost = append(onHost, env)
		}
	}
	if re.Repository == "" && len(onHost) == 1 {
		return onHost[0]
	}
	return nil
}
