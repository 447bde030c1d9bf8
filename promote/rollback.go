package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// RollbackRequest asks to re-point env at a digest it held before.
type RollbackRequest struct {
	Env    string
	App    string
	To     string // a digest or a record id; empty = the digest held before the current one
	Reason string
}

// Current is what an environment holds for an app.
type Current struct {
	App        string         `json:"app"`
	Env        string         `json:"env"`
	Repository string         `json:"repository"`
	Digest     string         `json:"digest"`
	Reference  string         `json:"reference"` // REPOSITORY@DIGEST
	Record     *ledger.Record `json:"record"`
}

// Rollback re-points env at a digest the ledger shows it held before, after
// checking that the digest is still in env's repository. It copies nothing
// (it moves env's pointer tag, if it has one, and verifies it) and runs no
// gates: the digest passed them when it was promoted there. The record goes
// through the same recorder as a promotion's.
func (e *Engine) Rollback(ctx context.Context, req RollbackRequest) (_ *Current, err error) {
	env, repo, err := e.repository(req.Env, req.App)
	if err != nil {
		return nil, err
	}
	rc := e.recorder(req.App, env.Name)
	held, err := rc.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.release()
	ctx, stop := held.Watch(ctx)
	defer stop()
	defer func() { err = leaseLost(ctx, "rolling back "+req.App+" in "+env.Name, err) }()
	cur, err := e.current(ctx, req.App, env.Name)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("%w: %s has never held %s, so there is nothing to roll back", errs.ErrNotFound, env.Name, req.App)
	}
	to, err := e.rollbackTarget(ctx, req, cur)
	if err != nil {
		return nil, err
	}
	if to.Digest == cur.Digest {
		return nil, errs.Conflictf("%s already runs %s@%s; nothing to roll back", env.Name, req.App, cur.Digest)
	}
	m, err := e.rd.Get(ctx, repo.Digest(to.Digest))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s@%s is no longer in %s's repository (deleted or expired by a lifecycle policy); roll back to another digest",
			errs.ErrNotFound, repo.Name(), to.Digest, env.Name)
	}
	if err != nil {
		return nil, err
	}
	if err := rc.check(ctx, "stopped before moving the pointer tag (nothing moved, nothing recorded)"); err != nil {
		return nil, err
	}
	if err := e.movePointer(ctx, env, repo, m); err != nil {
		return nil, err
	}
	if env.PointerTag != "" { // the digest itself was read just now
		if err := e.verify(ctx, repo, m.Digest, withPointer(nil, env)); err != nil {
			return nil, err
		}
	}
	rec := e.newRollback(req, env, repo, to, cur)
	if err := rc.append(ctx, rec); err != nil {
		return nil, err
	}
	return &Current{App: req.App, Env: env.Name, Repository: repo.Name(), Digest: to.Digest,
		Reference: repo.Name() + "@" + to.Digest, Record: rec}, nil
}

// newRollback is the record of a rollback from cur to the digest of to.
func (e *Engine) newRollback(req RollbackRequest, env *config.Environment, repo name.Repository, to, cur *ledger.Record) *ledger.Record {
	rec := &ledger.Record{
		Time: e.now().UTC(), Kind: ledger.KindRollback, App: req.App, Env: env.Name, From: env.From,
		Repository: repo.Name(), Digest: to.Digest, Tags: to.Tags, Previous: cur.Digest,
		Source: ledger.Source{Given: req.To, Resolved: repo.Digest(to.Digest).String()},
		Actor:  e.actor, CI: e.ci, Reason: req.Reason,
	}
	if env.PointerTag != "" {
		rec.Targets = []string{repo.Name() + ":" + env.PointerTag}
	}
	return rec
}

// rollbackTarget finds the promotion record of the digest to return to:
// it reads the record --to names (when it names one) and the promotion of
// the chosen digest; rollbackDigest and rollbackRecord decide.
func (e *Engine) rollbackTarget(ctx context.Context, req RollbackRequest, cur *ledger.Record) (*ledger.Record, error) {
	var named *ledger.Record
	if rollbackNamesRecord(req) {
		r, err := e.led.Get(ctx, req.To)
		if err != nil {
			return nil, fmt.Errorf("--to %s: %w", req.To, err)
		}
		named = &r
	}
	digest, err := rollbackDigest(req, cur, named)
	if err != nil {
		return nil, err
	}
	rec, err := e.promotedTo(ctx, req.App, req.Env, digest)
	if err != nil {
		return nil, err
	}
	return rollbackRecord(req, digest, rec)
}

// rollbackNamesRecord reports whether --to names a ledger record (not a digest).
func rollbackNamesRecord(req RollbackRequest) bool {
	return req.To != "" && !strings.HasPrefix(req.To, "sha256:")
}

// rollbackDigest chooses the digest a rollback returns to: the one held
// before cur when --to is empty, --to itself when it is a digest, or the
// digest of named, the record --to names (read by the caller whenever
// rollbackNamesRecord(req)), which must be a promotion or rollback of the
// same app in the same environment.
func rollbackDigest(req RollbackRequest, cur, named *ledger.Record) (string, error) {
	switch {
	case req.To == "":
		if cur.Previous == "" {
			return "", fmt.Errorf("%w: %s held nothing before %s; pass --to DIGEST|RECORD", errs.ErrNotFound, req.Env, cur.Digest)
		}
		return cur.Previous, nil
	case rollbackNamesRecord(req):
		r := named
		if r.App != req.App || r.Env != req.Env || r.Kind == ledger.KindRejected {
			return "", errs.Usagef("--to %s: record is a %s of %s in %s, not a promotion of %s in %s", req.To, r.Kind, r.App, r.Env, req.App, req.Env)
		}
		return r.Digest, nil
	}
	return req.To, nil
}

// rollbackRecord returns promoted, the latest promotion of digest into the
// environment: a rollback only returns to a digest promoted there.
func rollbackRecord(req RollbackRequest, digest string, promoted *ledger.Record) (*ledger.Record, error) {
	if promoted == nil {
		return nil, errs.Conflictf("%s never held %s@%s, so it cannot roll back to it (rollback only returns to a digest promoted there)", req.Env, req.App, digest)
	}
	return promoted, nil
}
