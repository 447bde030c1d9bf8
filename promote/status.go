package promote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// Status is what runs where for one app, environment by environment in
// pipeline order, from the configuration and the ledger alone.
type Status struct {
	App          string      `json:"app"`
	Environments []EnvStatus `json:"environments"`
	// RunningRevoked names the environments whose current digest is
	// revoked (status --fail-on revoked).
	RunningRevoked []string `json:"runningRevoked"`
	// Unchecked names the environments whose content could not be read
	// to check it against the revocations, with why.
	Unchecked []string `json:"unchecked,omitempty"`
}

// EnvStatus is one environment of a Status.
type EnvStatus struct {
	Env        string `json:"env"`
	From       string `json:"from,omitempty"`
	Repository string `json:"repository"`
	// FedByPushes: a first environment, which the ledger does not follow.
	FedByPushes bool           `json:"fedByPushes,omitempty"`
	Digest      string         `json:"digest,omitempty"` // "" when it holds nothing
	Tags        []string       `json:"tags,omitempty"`
	Since       *time.Time     `json:"since,omitempty"` // when the record that set it was written
	By          string         `json:"by,omitempty"`    // who wrote it (the actor's identity)
	Record      *ledger.Record `json:"record,omitempty"`
	Gates       []string       `json:"gates"` // the gate kinds a digest must pass to enter
	// Frozen describes each freeze in force over the environment: since
	// when, by whom, the record and the reason.
	Frozen []string `json:"frozen,omitempty"`
	// Revoked is the revocation of the digest it runs, if revoked.
	Revoked *ledger.Record `json:"revoked,omitempty"`
	// Policies describes its release policies now: windows, soak,
	// break-glass (policyStatus).
	Policies []string `json:"policies,omitempty"`
	// Next says, for each environment fed from this one, what the next
	// hop would take.
	Next []NextHop `json:"next,omitempty"`
	// Approvals, for an environment with approvals, count those of the
	// digest that would enter it next (Engine.Status; nil from Reader.Status).
	Approvals *PendingApprovals `json:"approvals,omitempty"`
}

// NextHop is what promoting from one environment into the next would do.
type NextHop struct {
	Env   string   `json:"env"`
	Gates []string `json:"gates"`
	// Pending: this environment runs a digest the next never held;
	// UpToDate: the next runs the same digest; RolledBack: the next held
	// it and was rolled back away from it (no command: promoting it again
	// would undo the rollback).
	Pending    bool   `json:"pending"`
	UpToDate   bool   `json:"upToDate"`
	RolledBack bool   `json:"rolledBack"`
	Command    string `json:"command,omitempty"` // the command that would do it
}

// Status says what each environment runs for app, who put it there and
// when, and what the next hop would need.
func (r *Reader) Status(ctx context.Context, app string) (*Status, error) {
	st, _, err := r.status(ctx, app)
	return st, err
}

// status is Status, with the revocations in force for app it read.
func (r *Reader) status(ctx context.Context, app string) (*Status, map[string]ledger.Record, error) {
	if err := checkApp(app); err != nil {
		return nil, nil, err
	}
	st := &Status{App: app, RunningRevoked: []string{}}
	byEnv := map[string]*EnvStatus{}
	revs, err := r.revocations(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	for _, env := range r.cfg.Environments {
		repo, err := env.RepositoryFor(app)
		if err != nil {
			return nil, nil, err
		}
		es := EnvStatus{Env: env.Name, From: env.From, Repository: repo, FedByPushes: env.From == "", Gates: []string{}}
		for _, g := range env.Gates {
			es.Gates = append(es.Gates, g.Kind)
		}
		if env.From != "" {
			cur, err := r.currentUntil(ctx, app, env.Name, time.Time{})
			if err != nil {
				return nil, nil, err
			}
			if cur != nil {
				t := cur.Time
				es.Digest, es.Tags, es.Since, es.By, es.Record = cur.Digest, cur.Tags, &t, cur.Actor.Identity, cur
				if rev, ok := revs[cur.Digest]; ok {
					es.Revoked = &rev
					st.RunningRevoked = append(st.RunningRevoked, env.Name)
				}
			}
			if es.Frozen, es.Policies, err = r.policyStatus(ctx, env); err != nil {
				return nil, nil, err
			}
		}
		st.Environments = append(st.Environments, es)
	}
	for i := range st.Environments {
		byEnv[st.Environments[i].Env] = &st.Environments[i]
	}
	for _, next := range st.Environments {
		if next.From == "" {
			continue
		}
		from := byEnv[next.From]
		hop := NextHop{Env: next.Env, Gates: next.Gates}
		switch {
		case from.FedByPushes:
			hop.Command = fmt.Sprintf("promote to %s %s:TAG", next.Env, app)
		case from.Digest == "":
			hop.Command = fmt.Sprintf("promote to %s %s (once %s holds it)", next.Env, app, from.Env)
		case from.Digest == next.Digest:
			hop.UpToDate = true
		default:
			held, err := r.heldDigests(ctx, app, next.Env)
			if err != nil {
				return nil, nil, err
			}
			if slices.Contains(held, from.Digest) {
				hop.RolledBack = true
				break
			}
			hop.Pending = true
			hop.Command = fmt.Sprintf("promote to %s %s", next.Env, app)
		}
		from.Next = append(from.Next, hop)
	}
	return st, revs, nil
}

// checkApp refuses what is not an app name (the repository pattern checks
// the rest).
func checkApp(app string) error {
	if app == "" || strings.ContainsAny(app, ":@") {
		return errs.Usagef("%q: expected an app name, without :TAG or @DIGEST", app)
	}
	return nil
}
