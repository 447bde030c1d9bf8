package promote

import (
	"context"
	"fmt"
)

// PendingApprovals is how the approvals of the digest that would enter an
// environment next count: the from environment's current digest, when the
// environment does not run it.
type PendingApprovals struct {
	Digest string `json:"digest"`
	ApprovalTally
	// Command approves it, while approvals are missing.
	Command string `json:"command,omitempty"`
	// Error says why the approvals could not be counted (the registry
	// could not be read); the counts are then unknown.
	Error string `json:"error,omitempty"`
}

// Status is Reader.Status with, for each environment that has approvals,
// the approvals of the digest that would enter it next (EnvStatus.Approvals),
// read from the registry. A registry that cannot be read is said in that
// environment's row, not as an error of the whole status.
func (e *Engine) Status(ctx context.Context, app string) (*Status, error) {
	st, revs, err := e.reader().status(ctx, app)
	if err != nil {
		return nil, err
	}
	e.revokedRunning(ctx, st, revs)
	byEnv := map[string]*EnvStatus{}
	for i := range st.Environments {
		byEnv[st.Environments[i].Env] = &st.Environments[i]
	}
	for i := range st.Environments {
		es := &st.Environments[i]
		env, err := e.cfg.Env(es.Env)
		if err != nil {
			return nil, err
		}
		from := byEnv[es.From]
		if env.Approvals == nil || from == nil || from.Digest == "" || from.Digest == es.Digest {
			continue
		}
		es.Approvals = e.pendingApprovals(ctx, es.Env, app, from.Digest)
	}
	return st, nil
}

// pendingApprovals counts the approvals of digest for envName as a
// promotion of it would (break-glass aside).
func (e *Engine) pendingApprovals(ctx context.Context, envName, app, digest string) *PendingApprovals {
	env, _ := e.cfg.Env(envName)
	required := env.Approvals.Required
	p := &PendingApprovals{Digest: digest, ApprovalTally: ApprovalTally{Required: required, Approved: []Approval{}, Missing: required}}
	fail := func(err error) *PendingApprovals {
		p.Error = err.Error()
		return p
	}
	from, repo, err := e.repository(env.From, app)
	if err != nil {
		return fail(err)
	}
	m, err := e.rd.Get(ctx, repo.Digest(digest))
	if err != nil {
		return fail(fmt.Errorf("reading %s@%s: %w", repo.Name(), digest, err))
	}
	_, subj, err := e.inspect(ctx, &source{env: from, repo: repo, manifest: m, given: app + "@" + digest}, nil)
	if err != nil {
		return fail(err)
	}
	t, err := e.tallyApprovals(ctx, env, app, subj, required)
	if err != nil {
		return fail(err)
	}
	p.ApprovalTally = t
	if t.Missing > 0 {
		p.Command = fmt.Sprintf("promote approve %s %s@%s --key FILE --reason TEXT", env.Name, app, digest)
	}
	return p
}
