package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// signers caches each environment's attestation signer: its key is
// decrypted once per process (scrypt is slow on purpose).
type signers struct {
	mu sync.Mutex
	m  map[string]*attest.Signer
}

func (e *Engine) signer(env *config.Environment) (*attest.Signer, error) {
	e.signers.mu.Lock()
	defer e.signers.mu.Unlock()
	if s, ok := e.signers.m[env.Name]; ok {
		return s, nil
	}
	s, err := attest.LoadSigner(env.Attest.Key, env.Attest.PasswordEnv)
	if err != nil {
		return nil, fmt.Errorf("environment %s: attestation key: %w", env.Name, err)
	}
	if e.signers.m == nil {
		e.signers.m = map[string]*attest.Signer{}
	}
	e.signers.m[env.Name] = s
	return s, nil
}

// attest is the phase after the record: the promotion attestation, signed
// and attached to the promoted digest; on a re-run with nothing to do, the
// one a failed earlier run did not attach.
func (r *run) attest(ctx context.Context) (err error) {
	switch {
	case r.req.DryRun: // a dry run writes nothing, a missing attestation included
	case r.res.NothingToDo && r.current.Kind == ledger.KindPromotion:
		r.res.Attestation, err = r.e.ensureAttested(ctx, r.env, r.dst, r.current)
	case r.res.Record != nil && r.res.Record.Kind == ledger.KindPromotion:
		r.res.Attestation, err = r.e.attestRecord(ctx, r.env, r.dst, r.res.Record)
	}
	return err
}

// attestRecord signs a promotion attestation of rec (with its ledger seq
// and hash) and attaches it to the promoted digest in dst as an OCI 1.1
// referrer, when env has an attestation key. It runs after the record is
// appended: the promotion stands either way, and a failure says to run the
// same command again, which attaches what is missing.
func (e *Engine) attestRecord(ctx context.Context, env *config.Environment, dst name.Repository, rec *ledger.Record) (string, error) {
	if env.Attest == nil || rec == nil {
		return "", nil
	}
	s, err := e.signer(env)
	if err != nil {
		return "", err
	}
	st, err := attest.BuildStatement(promotionOf(rec))
	if err != nil {
		return "", err
	}
	d, err := s.Attest(ctx, registryIO{e.rd, e.wr}, dst, st)
	if err != nil {
		return "", fmt.Errorf("promotion %s is recorded, but its attestation could not be attached: %w; run the same command again to attach it", rec.ID, err)
	}
	e.log.Info("promotion attestation attached", "digest", d.String(), "record", rec.ID)
	return d.String(), nil
}

// ensureAttested attaches rec's attestation if dst does not hold one yet:
// the re-run of a promotion whose attachment failed completes it.
func (e *Engine) ensureAttested(ctx context.Context, env *config.Environment, dst name.Repository, rec *ledger.Record) (string, error) {
	if env.Attest == nil || rec == nil {
		return "", nil
	}
	d, err := v1.NewHash(rec.Digest)
	if err != nil {
		return "", fmt.Errorf("record %s: digest %q: %w", rec.ID, rec.Digest, err)
	}
	have, err := attest.Attached(ctx, registryIO{e.rd, e.wr}, dst, d, rec.Hash)
	if err != nil {
		return "", err
	}
	if len(have) > 0 {
		return have[0].Digest.String(), nil
	}
	return e.attestRecord(ctx, env, dst, rec)
}

func promotionOf(r *ledger.Record) attest.Promotion {
	p := attest.Promotion{
		Environment: r.Env, From: r.From, App: r.App, SourceGiven: r.Source.Given, SourceResolved: r.Source.Resolved,
		Repository: r.Repository, Tags: r.Tags, Digest: r.Digest, Previous: r.Previous,
		Record: attest.RecordRef{ID: r.ID, Seq: r.Seq, Hash: r.Hash},
		Actor:  attest.Actor(r.Actor), // the same fields, each identity with how it was established
		Time:   r.Time,
	}
	p.Gates = append(p.Gates, r.Gates...)
	return p
}
