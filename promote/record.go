package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

// recorder is the one writer of a chain's records (an app in an
// environment): promotions, refusals and rollbacks all go through append,
// under the chain's ledger lock, which the recorder holds from lock to
// release.
type recorder struct {
	e        *Engine
	app, env string
	held     *chainLease
}

func (e *Engine) recorder(app, env string) *recorder {
	return &recorder{e: e, app: app, env: env}
}

// lock takes the chain's ledger lock, if not held yet, and returns it.
// Holding it, it asks the ledger whether this writer could and would sign
// its log as it is (ledger.CheckWriter): a refusal there comes before
// anything is written, not at the record.
func (rc *recorder) lock(ctx context.Context) (*chainLease, error) {
	if rc.held == nil {
		l, err := rc.e.lease(ctx, rc.app, rc.env)
		if err != nil {
			return nil, err
		}
		if err := ledger.CheckWriter(ctx, rc.e.led, rc.app, rc.env); err != nil {
			l.Release()
			return nil, fmt.Errorf("%s in %s: %w", rc.app, rc.env, err)
		}
		rc.held = l
	}
	return rc.held, nil
}

// release drops the lock, if held.
func (rc *recorder) release() {
	if rc.held != nil {
		rc.held.Release()
		rc.held = nil
	}
}

// check proves the lock is still held right before a write only its holder
// may make; before says what was not done if it is not (lease.go).
func (rc *recorder) check(ctx context.Context, before string) error {
	if rc.held == nil {
		return fmt.Errorf("promote: %s in %s: writing without holding its ledger lock (a bug)", rc.app, rc.env)
	}
	return rc.held.check(ctx, before)
}

// refused records rec, a rejected attempt, taking the lock if it is not
// held, and returns cause joined with whatever kept it from the ledger.
func (rc *recorder) refused(ctx context.Context, rec *ledger.Record, cause error) error {
	if _, err := rc.lock(ctx); err != nil {
		return errors.Join(cause, err)
	}
	if err := rc.append(ctx, rec); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// append appends rec after the chain head read now, the lock checked
// first. Where the environment is in ECR, the record names the AWS caller
// identity. A head moved by another writer (which the lock rules out on a
// healthy ledger) is retried a few times, with back-off.
func (rc *recorder) append(ctx context.Context, rec *ledger.Record) error {
	e := rc.e
	if rec.Actor.AWS == "" {
		rec.Actor.AWS, rec.Actor.AWSVia = e.ecr.identity(ctx, rec.Env)
	}
	if err := rc.check(ctx, "stopped before recording the "+string(rec.Kind)); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		head, err := e.led.Head(ctx, rec.App, rec.Env)
		if err != nil {
			return fmt.Errorf("reading ledger head: %w", err)
		}
		err = e.led.Append(ctx, rec, head)
		if err == nil {
			return nil
		}
		if errors.Is(err, ledger.ErrLogBehind) {
			// The record stands, and the promotion with it; the log
			// catches up at the next append.
			e.log.Warn("recorded, but the ledger's log is behind", "record", rec.ID, "error", err)
			return nil
		}
		if !errors.Is(err, ledger.ErrHeadMoved) || attempt >= e.retries {
			if errors.Is(err, ledger.ErrHeadMoved) {
				err = errs.Conflictf("the ledger head of %s in %s kept moving after %d attempts; run the command again", rec.App, rec.Env, attempt+1)
			}
			return fmt.Errorf("recording %s: %w", rec.Kind, err)
		}
		if err := sleepCtx(ctx, time.Duration(attempt+1)*20*time.Millisecond); err != nil {
			return fmt.Errorf("recording %s: %w", rec.Kind, err)
		}
	}
}

// sleepCtx waits for d, or returns ctx's error as soon as it ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// record is the last phase under the lock: the promotion, appended.
func (r *run) record(ctx context.Context) error {
	rec := r.newRecord(ledger.KindPromotion)
	if r.env.PointerTag != "" {
		rec.Targets = append(rec.Targets, r.res.Repository+":"+r.env.PointerTag)
	}
	if err := r.rec.append(ctx, rec); err != nil {
		return err
	}
	r.res.Record = rec
	return nil
}

// rejection is the record of a refused run.
func (r *run) rejection(cause error) *ledger.Record {
	rec := r.newRecord(ledger.KindRejected)
	rec.Rejection = cause.Error()
	r.res.Record = rec
	return rec
}

func (r *run) newRecord(kind ledger.Kind) *ledger.Record {
	e, res := r.e, r.res
	rec := &ledger.Record{
		Time: e.now().UTC(), Kind: kind, App: res.App, Env: res.Env, From: res.From,
		Repository: res.Repository, Digest: res.Digest, Source: res.Source, Tags: r.tags,
		Previous: res.Previous, Gates: slices.Clone(res.Gates), Policies: slices.Clone(res.Policies),
		BreakGlass: res.BreakGlass, Actor: e.actor, CI: e.ci, Reason: r.req.Reason,
		Evidence: slices.Clone(r.evidence),
	}
	if kind == ledger.KindPromotion {
		for _, t := range r.tags {
			rec.Targets = append(rec.Targets, res.Repository+":"+t)
		}
		if len(r.tags) == 0 {
			rec.Targets = []string{res.Repository + "@" + res.Digest}
		}
	}
	return rec
}
