package promote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
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
}

// Result says what a promotion did, or would do in a dry run. It is
// returned alongside a rejection error too, carrying the gate verdicts.
type Result struct {
	App         string         `json:"app"`
	Env         string         `json:"env"`
	From        string         `json:"from"`
	Source      ledger.Source  `json:"source"`
	Digest      string         `json:"digest"`
	Repository  string         `json:"repository"`
	Previous    string         `json:"previous,omitempty"`
	Gates       []GateOutcome  `json:"gates"`
	Plan        *Plan          `json:"plan,omitempty"`
	Copy        *CopyStats     `json:"copy,omitempty"`
	Record      *ledger.Record `json:"record,omitempty"`
	Attestation string         `json:"attestation,omitempty"` // digest of the signed promotion attestation attached
	DryRun      bool           `json:"dryRun"`
	NothingToDo bool           `json:"nothingToDo"`
	Seconds     float64        `json:"seconds"`
}

// Promote runs one promotion: resolve, path check, gates, plan, copy, tag,
// verify, record. A gate rejection, a tag conflict or a path violation is
// recorded as a rejected attempt and returned as an error wrapping
// errs.ErrGateRejected or errs.ErrConflict, with nothing written to the target.
func (e *Engine) Promote(ctx context.Context, req Request) (*Result, error) {
	start := e.now()
	env, err := e.cfg.Env(req.Env)
	if err != nil {
		return nil, err
	}
	if env.Attest != nil && !req.DryRun { // a key that cannot sign fails before anything is written
		if _, err := e.signer(env); err != nil {
			return nil, err
		}
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
	defer func() { res.Seconds = e.now().Sub(start).Seconds() }()

	src, err := e.resolve(ctx, env, req.Ref)
	if src != nil && src.manifest != nil {
		res.Digest = src.manifest.Digest.String()
		res.Source = ledger.Source{Given: src.given, Resolved: src.repo.Digest(res.Digest).String()}
	}
	var pe *PathError
	if errors.As(err, &pe) {
		return res, e.reject(ctx, req, res, nil, err)
	}
	if err != nil {
		return nil, err
	}
	e.log.Info("resolved source", "given", src.given, "digest", res.Digest)

	root, subj, err := e.inspect(ctx, src)
	var te *TreeError
	if errors.As(err, &te) {
		return res, e.reject(ctx, req, res, nil, err)
	}
	if err != nil {
		return nil, err
	}
	subj.Reports = req.Reports
	tags, err := e.targetTags(env, src, subj, req.Tags)
	if err != nil {
		return nil, err
	}
	if err := e.CheckTarget(ctx, env, res.App); err != nil {
		return res, err
	}
	cur, err := e.current(ctx, res.App, env.Name)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		res.Previous = cur.Digest
	}
	st, err := e.survey(ctx, src.repo, dst, root, tags)
	if err != nil {
		return nil, err
	}
	plan := decide(src.repo, dst, root, st, tags, env.Immutable())
	res.Plan = plan
	if plan.Complete() && cur != nil && cur.Digest == res.Digest {
		res.NothingToDo = true
		if cur.Kind == ledger.KindPromotion {
			res.Attestation, err = e.ensureAttested(ctx, env, dst, cur)
		}
		return res, err
	}
	res.Gates, err = runGates(ctx, env, subj)
	if isGateRejection(err) {
		return res, e.reject(ctx, req, res, tags, err)
	}
	if err != nil {
		return res, err
	}
	if c := plan.Conflicts(); len(c) > 0 {
		return res, e.reject(ctx, req, res, tags, conflictError(env, dst, c))
	}
	if req.DryRun {
		return res, nil
	}
	if err := e.execute(ctx, req, res, env, src.repo, dst, root, st, tags); err != nil {
		return res, err
	}
	res.Attestation, err = e.attestRecord(ctx, env, dst, res.Record)
	return res, err
}

// execute performs a planned promotion under the ledger lock of app in env:
// it re-checks the tags (another promoter may have written them meanwhile),
// copies the content, writes the tags, verifies and records. If the lock is
// lost (an S3 lease taken over or expired), the work stops: the context is
// cancelled, and the lock is checked again before the tags and the record.
func (e *Engine) execute(ctx context.Context, req Request, res *Result, env *config.Environment, src, dst name.Repository, root *node, st *targetState, tags []string) error {
	held, err := e.lease(ctx, res.App, env.Name)
	if err != nil {
		return err
	}
	defer held.Release()
	ctx, stop := held.Watch(ctx)
	defer stop()
	err = e.executeHeld(ctx, req, res, env, src, dst, root, st, tags)
	return leaseLost(ctx, fmt.Sprintf("promoting %s to %s", res.App, env.Name), err)
}

// executeHeld is execute's work, under the lock.
func (e *Engine) executeHeld(ctx context.Context, req Request, res *Result, env *config.Environment, src, dst name.Repository, root *node, st *targetState, tags []string) error {
	cur, err := e.current(ctx, res.App, env.Name)
	if err != nil {
		return err
	}
	res.Previous = ""
	if cur != nil {
		res.Previous = cur.Digest
	}
	// Content only grows (it is addressed by digest), so the survey made
	// before the lock still holds for it; tags may have been written since.
	if st.tags, err = e.surveyTags(ctx, dst, tags); err != nil {
		return err
	}
	plan := decide(src, dst, root, st, tags, env.Immutable())
	res.Plan = plan
	if c := plan.Conflicts(); len(c) > 0 {
		cause := conflictError(env, dst, c)
		return e.appendLocked(ctx, e.rejection(req, res, tags, cause), cause)
	}
	stats, err := e.copyContent(ctx, src, dst, plan)
	res.Copy = &stats
	if err != nil {
		return err
	}
	if e.hooks.afterCopy != nil {
		if err := e.hooks.afterCopy(); err != nil {
			return err
		}
	}
	if err := e.checkLease(ctx, res.App, env.Name, "stopped before writing the promotion's tags (none written, nothing recorded)"); err != nil {
		return err
	}
	if err := e.writeTags(ctx, req, res, env, dst, root, plan, tags); err != nil {
		return err
	}
	if err := e.movePointer(ctx, env, dst, root.m); err != nil {
		return err
	}
	if err := e.verify(ctx, dst, root.m.Digest, withPointer(tags, env)); err != nil {
		return err
	}
	e.rememberBlobs(src, dst, root)
	rec := e.record(ledger.KindPromotion, req, res, tags)
	if env.PointerTag != "" {
		rec.Targets = append(rec.Targets, res.Repository+":"+env.PointerTag)
	}
	if err := e.appendLocked(ctx, rec, nil); err != nil {
		return err
	}
	res.Record = rec
	return nil
}

func conflictError(env *config.Environment, dst name.Repository, c []TagStep) error {
	t := c[0]
	return errs.Conflictf("%s is immutable and tag %s:%s already names %s; nothing was written. Promote under a new tag (--tag), or roll back to that digest",
		env.Name, dst.Name(), t.Tag, t.Current)
}

// reject records a refused attempt (taking the lock) and returns cause.
func (e *Engine) reject(ctx context.Context, req Request, res *Result, tags []string, cause error) error {
	if req.DryRun || res.Digest == "" {
		return cause
	}
	release, err := e.lock(ctx, res.App, res.Env)
	if err != nil {
		return errors.Join(cause, err)
	}
	defer release()
	return e.appendLocked(ctx, e.rejection(req, res, tags, cause), cause)
}

func (e *Engine) rejection(req Request, res *Result, tags []string, cause error) *ledger.Record {
	rec := e.record(ledger.KindRejected, req, res, tags)
	rec.Rejection = cause.Error()
	res.Record = rec
	return rec
}

// appendLocked appends rec with the chain head read now; the caller holds
// the lock. It returns cause (nil for a success) unless the append fails.
// Where the environment is in ECR, the record names the AWS caller identity.
func (e *Engine) appendLocked(ctx context.Context, rec *ledger.Record, cause error) error {
	if rec.Actor.AWS == "" {
		rec.Actor.AWS, rec.Actor.AWSVia = e.ecr.identity(ctx, rec.Env)
	}
	if err := e.checkLease(ctx, rec.App, rec.Env, "stopped before recording the "+string(rec.Kind)); err != nil {
		return errors.Join(cause, err)
	}
	for attempt := 0; ; attempt++ {
		head, err := e.led.Head(ctx, rec.App, rec.Env)
		if err != nil {
			return errors.Join(cause, fmt.Errorf("reading ledger head: %w", err))
		}
		err = e.led.Append(ctx, rec, head)
		if err == nil {
			return cause
		}
		if !errors.Is(err, ledger.ErrHeadMoved) || attempt >= e.retries {
			if errors.Is(err, ledger.ErrHeadMoved) {
				err = errs.Conflictf("the ledger head of %s in %s kept moving after %d attempts; run the command again", rec.App, rec.Env, attempt+1)
			}
			return errors.Join(cause, fmt.Errorf("recording %s: %w", rec.Kind, err))
		}
		if err := sleepCtx(ctx, time.Duration(attempt+1)*20*time.Millisecond); err != nil {
			return errors.Join(cause, fmt.Errorf("recording %s: %w", rec.Kind, err))
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

func (e *Engine) record(kind ledger.Kind, req Request, res *Result, tags []string) *ledger.Record {
	rec := &ledger.Record{
		Time: e.now().UTC(), Kind: kind, App: res.App, Env: res.Env, From: res.From,
		Repository: res.Repository, Digest: res.Digest, Source: res.Source, Tags: tags,
		Previous: res.Previous, Gates: ledgerGates(res.Gates), Actor: e.actor, CI: e.ci, Reason: req.Reason,
	}
	if kind == ledger.KindPromotion {
		for _, t := range tags {
			rec.Targets = append(rec.Targets, res.Repository+":"+t)
		}
		if len(tags) == 0 {
			rec.Targets = []string{res.Repository + "@" + res.Digest}
		}
	}
	return rec
}
