package promote

import (
	"context"
	"errors"
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
// and hash, and its inclusion proof in the ledger's newest signed
// checkpoint) and attaches it to the promoted digest in dst as an OCI 1.1
// referrer, when env has an attestation key. It runs after the record is
// appended: the promotion stands either way, and a failure says to run the
// same command again, which attaches what is missing — after promote
// ledger upgrade when the record is in no signed checkpoint yet (the
// ledger's log is behind), for a re-run appends nothing that would sign one.
func (e *Engine) attestRecord(ctx context.Context, env *config.Environment, dst name.Repository, rec *ledger.Record) (string, error) {
	if env.Attest == nil || rec == nil {
		return "", nil
	}
	s, err := e.signer(env)
	if err != nil {
		return "", err
	}
	p := promotionOf(rec)
	if p.Ledger, err = e.ledgerProof(ctx, rec); err != nil {
		if errors.Is(err, ledger.ErrLogBehind) {
			return "", fmt.Errorf("promotion %s is recorded, but its attestation could not be made: %w; run promote ledger upgrade, "+
				"which logs the record and signs a checkpoint of the log, then run the same command again to attach it", rec.ID, err)
		}
		return "", fmt.Errorf("promotion %s is recorded, but its attestation could not be made: %w; run the same command again to attach it", rec.ID, err)
	}
	st, err := attest.BuildStatement(p)
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

// ledgerProof is rec's inclusion proof in the ledger's newest signed
// checkpoint, for the attestation: nil, with a debug log, when the ledger
// stores no signed checkpoint and this promote has no ledger key (nor had
// any writer before it). Any other failure is an error, never a proof left
// out: an attestation without it would look like one of a keyless ledger.
// A record in no signed checkpoint yet — not logged, logged after the
// newest checkpoint, or in a keyed ledger that stores none — is an error
// wrapping ledger.ErrLogBehind: promote ledger upgrade completes the log.
// The proof must be of rec's very body, and its checkpoint must verify with
// the ledger's verifier key when one is known.
func (e *Engine) ledgerProof(ctx context.Context, rec *ledger.Record) (*attest.LedgerProof, error) {
	vkey, err := verifierKey(e.cfg, e.keys)
	if err != nil {
		return nil, err
	}
	p, err := ledger.Prove(ctx, e.led, rec.ID, vkey)
	switch {
	case errors.Is(err, ledger.ErrNoCheckpoint):
		k, kerr := ledgerKey(e.cfg, e.keys)
		if kerr != nil {
			return nil, fmt.Errorf("proving it in the ledger's log: %w", kerr)
		}
		if k != nil {
			return nil, fmt.Errorf("proving it in the ledger's log: %w: the ledger has a key, but %w yet", ledger.ErrLogBehind, ledger.ErrNoCheckpoint)
		}
		e.log.Debug("the promotion attestation carries no ledger proof: the ledger signs no checkpoint (it has no key)", "record", rec.ID)
		return nil, nil
	case errors.Is(err, ledger.ErrNotLogged), errors.Is(err, ledger.ErrNotSigned):
		return nil, fmt.Errorf("proving it in the ledger's log: %w: %w", ledger.ErrLogBehind, err)
	case err != nil:
		return nil, fmt.Errorf("proving it in the ledger's log: %w", err)
	case ledger.HashBody(p.Record) != rec.Hash:
		return nil, fmt.Errorf("proving it in the ledger's log: leaf %d is not record %s as appended (its hash is %s): run promote ledger verify",
			p.LeafIndex, rec.ID, ledger.HashBody(p.Record))
	}
	if vkey != "" {
		if _, err := p.Check(vkey); err != nil {
			return nil, fmt.Errorf("proving it in the ledger's log: the ledger's newest checkpoint does not verify with the ledger key %s: %w", vkey, err)
		}
	}
	return &attest.LedgerProof{Origin: p.Origin, TreeSize: p.TreeSize, LeafIndex: p.LeafIndex, Proof: p.Hashes, Checkpoint: p.Checkpoint}, nil
}

func promotionOf(r *ledger.Record) attest.Promotion {
	p := attest.Promotion{
		Environment: r.Env, From: r.From, App: r.App, SourceGiven: r.Source.Given, SourceResolved: r.Source.Resolved,
		Repository: r.Repository, Tags: r.Tags, Digest: r.Digest, Previous: r.Previous,
		Record: attest.RecordRef{ID: r.ID, Seq: r.Seq, Hash: r.Hash},
		Actor:  attest.Actor(r.Actor), // the same fields, each identity with how it was established
		Time:   r.Time, Evidence: r.Evidence,
	}
	p.Gates = append(p.Gates, r.Gates...)
	p.Policies, p.BreakGlass = append(p.Policies, r.Policies...), r.BreakGlass
	return p
}
