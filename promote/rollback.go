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
	Env string
	App string
	// To is a digest (or a unique prefix of at least 12 hex digits, as
	// history prints it) or a record id; empty: the digest held before
	// the current one.
	To     string
	Reason string
	DryRun bool // say what would be re-pointed; write nothing
}

// RollbackResult says what a rollback did, or would do in a dry run: what
// the environment runs after it, the tags that digest carries there, and
// the pointer tag re-pointed.
type RollbackResult struct {
	*Current
	Tags        []string `json:"tags,omitempty"`
	Previous    string   `json:"previous,omitempty"` // what the environment ran before
	Pointer     string   `json:"pointer,omitempty"`  // REPOSITORY:TAG re-pointed, where the environment has one
	DryRun      bool     `json:"dryRun"`
	NothingToDo bool     `json:"nothingToDo"` // the environment already runs it: nothing written or recorded
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
// through the same recorder as a promotion's. A rollback to the digest the
// environment runs has nothing to do; a dry run takes no lock and writes
// nothing. A revoked digest is refused (revoked.go); a freeze or a window
// does not hold a rollback back: rollbacks are how incidents end.
func (e *Engine) Rollback(ctx context.Context, req RollbackRequest) (_ *RollbackResult, err error) {
	defer func() { err = e.placeReach(req.App, err) }()
	env, repo, err := e.repository(req.Env, req.App)
	if err != nil {
		return nil, err
	}
	rc := e.recorder(req.App, env.Name)
	if !req.DryRun {
		held, lockErr := rc.lock(ctx)
		if lockErr != nil {
			return nil, lockErr
		}
		defer rc.release()
		var stop context.CancelFunc
		ctx, stop = held.Watch(ctx)
		defer stop()
		defer func() { err = leaseLost(ctx, "rolling back "+req.App+" in "+env.Name, err) }()
	}
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
	res := &RollbackResult{Current: &Current{App: req.App, Env: env.Name, Repository: repo.Name(), Digest: to.Digest,
		Reference: repo.Name() + "@" + to.Digest}, Tags: to.Tags, Previous: cur.Digest, DryRun: req.DryRun}
	if env.PointerTag != "" {
		res.Pointer = repo.Name() + ":" + env.PointerTag
	}
	if to.Digest == cur.Digest { // no record: a pipeline must not take an old one for a new one
		res.NothingToDo, res.Previous = true, ""
		return res, nil
	}
	m, err := e.rd.Get(ctx, repo.Digest(to.Digest))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s@%s is no longer in %s's repository (deleted or expired by a lifecycle policy); roll back to another digest",
			errs.ErrNotFound, repo.Name(), to.Digest, env.Name)
	}
	if err != nil {
		return res, err
	}
	if err := e.rollbackRevoked(ctx, rc, req, e.newRollback(req, env, repo, to, cur), repo, m); err != nil || req.DryRun {
		return res, err
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
	res.Record = e.newRollback(req, env, repo, to, cur)
	if err := rc.append(ctx, res.Record); err != nil {
		return nil, err
	}
	return res, nil
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
	if d, isDigest, err := digestArg("--to", req.To); err != nil {
		return nil, err
	} else if isDigest {
		req.To = d
	}
	if prefix, ok := digestPrefix(req.To); ok {
		full, err := e.heldDigest(ctx, req, prefix)
		if err != nil {
			return nil, err
		}
		req.To = full
	}
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
	if rec != nil {
		if err := e.reader().authentic(ctx, *rec); err != nil {
			return nil, err
		}
	}
	return rollbackRecord(req, digest, rec)
}

// rollbackNamesRecord reports whether --to names a ledger record (not a
// digest; a digest prefix is expanded before this is asked).
func rollbackNamesRecord(req RollbackRequest) bool {
	return req.To != "" && !strings.HasPrefix(req.To, "sha256:")
}

// heldDigest expands a digest prefix --to gives against the digests the
// environment held for the app, per the ledger.
func (e *Engine) heldDigest(ctx context.Context, req RollbackRequest, prefix string) (string, error) {
	held, err := e.reader().heldDigests(ctx, req.App, req.Env)
	if err != nil {
		return "", err
	}
	return expandDigest("--to "+req.To, prefix, held, req.Env+" held for "+req.App,
		fmt.Sprintf("pass the full digest or a record id (promote history %s --env %s lists them)", req.App, req.Env))
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
