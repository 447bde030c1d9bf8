package promote

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/admission"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/sigverify"
)

// AdmissionRequest says which admission policies to export.
type AdmissionRequest struct {
	Controller admission.Controller
	// Env is the environment the cluster runs; "" takes the pipeline's
	// last environment when there is exactly one.
	Env string
	// AttestPub is a file holding the attestation public key (PEM); ""
	// derives it from Env's attest key. Only the attestation exports use it.
	AttestPub string
}

// AdmissionExport is what ExportAdmission made: the files and the inputs
// they were made from.
type AdmissionExport struct {
	Controller admission.Controller `json:"controller"`
	Env        string               `json:"env"`
	Files      []admission.File     `json:"-"`
	Input      admission.Input      `json:"-"`
}

// ExportAdmission gathers an environment's admission inputs (its
// repository pattern, the moving tags, every digest revoked for any app,
// each record checked as decisions check it, the attestation public key
// and where the config and ledger stand) and returns the policies for
// req.Controller. It reads the config, its keys and the ledger, and writes
// nothing. A bad request is an error wrapping errs.ErrUsage or
// errs.ErrConfig.
func (r *Reader) ExportAdmission(ctx context.Context, req AdmissionRequest) (*AdmissionExport, error) {
	if !slices.Contains(admission.Controllers, req.Controller) {
		return nil, errs.Usagef("--for %q: expected one of %s", req.Controller, controllerNames())
	}
	env, err := r.admissionEnv(req.Env)
	if err != nil {
		return nil, err
	}
	in := admission.Input{Env: env.Name, Repository: env.Repository, MovingTags: r.movingTags()}
	if req.Controller != admission.Gatekeeper {
		if in.PublicKeyPEM, err = r.attestationKey(env, req.AttestPub); err != nil {
			return nil, err
		}
	} else if req.AttestPub != "" {
		return nil, errs.Usagef("--attest-pub: the gatekeeper export checks no signature; the key is for --for kyverno or policy-controller")
	}
	if in.Source, err = r.admissionSource(ctx); err != nil {
		return nil, err
	}
	if in.Revoked, err = r.allRevoked(ctx); err != nil {
		return nil, err
	}
	if in.Repositories, err = r.heldRepositories(ctx, env); err != nil {
		return nil, err
	}
	if len(in.Repositories) == 0 {
		return nil, errs.Usagef("environment %s holds no app yet (the ledger of %s shows no promotion into it), so no repository of it may run: "+
			"promote an app into %s, then export", env.Name, r.cfg.File, env.Name)
	}
	files, err := admission.Export(req.Controller, in)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errs.ErrConfig, r.cfg.File, err)
	}
	return &AdmissionExport{Controller: req.Controller, Env: env.Name, Files: files, Input: in}, nil
}

// admissionEnv is the named environment, or the one environment nothing is
// promoted from (prod), or a usage error naming the candidates.
func (r *Reader) admissionEnv(name string) (*config.Environment, error) {
	if name != "" {
		return r.cfg.Env(name)
	}
	var last []string
	for _, e := range r.cfg.Environments {
		if len(r.cfg.Downstream(e.Name)) == 0 {
			last = append(last, e.Name)
		}
	}
	if len(last) != 1 {
		return nil, errs.Usagef("--env is required: %s has %d last environments (%s); name the one the cluster runs",
			r.cfg.File, len(last), strings.Join(last, ", "))
	}
	return r.cfg.Env(last[0])
}

// movingTags are the tag names that move: movingTags and every
// environment's pointer tag (Config.IsMoving).
func (r *Reader) movingTags() []string {
	tags := slices.Clone(r.cfg.MovingTags)
	for _, e := range r.cfg.Environments {
		if e.PointerTag != "" {
			tags = append(tags, e.PointerTag)
		}
	}
	return tags
}

// attestationKey is the PEM public key of env's promotion attestations:
// from the file pub, else derived from env's attest key (its password read
// as the signer reads it).
func (r *Reader) attestationKey(env *config.Environment, pub string) ([]byte, error) {
	if pub != "" {
		b, err := os.ReadFile(pub)
		if err != nil {
			return nil, errs.Usagef("--attest-pub %s: %v", pub, unwrapPath(err))
		}
		if _, err := sigverify.ParseKey(pub, b); err != nil {
			return nil, errs.Usagef("--attest-pub: %v", err)
		}
		k, err := cryptoutils.UnmarshalPEMToPublicKey(b)
		if err != nil {
			return nil, errs.Usagef("--attest-pub: %v", err)
		}
		p, err := cryptoutils.MarshalPublicKeyToPEM(k)
		if err != nil {
			return nil, errs.Usagef("--attest-pub: %v", err)
		}
		return p, nil
	}
	if env.Attest == nil {
		return nil, fmt.Errorf("%w: environment %s in %s has no attest key, so its promotions carry no attestation to require: "+
			"add attest: {key: ...} to it (docs/admission.md), or pass --attest-pub FILE; for the image rules alone, export --for gatekeeper",
			errs.ErrConfig, env.Name, r.cfg.File)
	}
	s, err := attest.LoadSigner(env.Attest.Key, env.Attest.PasswordEnv)
	if err != nil {
		return nil, err
	}
	p, err := s.PublicKeyPEM()
	if err != nil {
		return nil, fmt.Errorf("%w: attestation key %s: %w", errs.ErrConfig, env.Attest.Key, err)
	}
	return p, nil
}

// admissionSource names the config (its file name and SHA-256) and where
// the ledger stands: its newest signed checkpoint, or for a ledger without
// a key its newest record.
func (r *Reader) admissionSource(ctx context.Context) (admission.Source, error) {
	b, err := os.ReadFile(r.cfg.File)
	if err != nil {
		return admission.Source{}, fmt.Errorf("%w: reading %s: %w", errs.ErrConfig, r.cfg.File, err)
	}
	sum := sha256.Sum256(b)
	src := admission.Source{Config: filepath.Base(r.cfg.File), ConfigSHA256: hex.EncodeToString(sum[:])}
	cp, err := r.Checkpoint(ctx)
	switch {
	case err == nil:
		c, perr := ledger.ParseNote([]byte(cp.Note))
		if perr != nil {
			return src, fmt.Errorf("the ledger's newest checkpoint: %w", perr)
		}
		src.Checkpoint = &admission.Checkpoint{Origin: c.Origin, Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root[:])}
		return src, nil
	case !errors.Is(err, ledger.ErrNoCheckpoint):
		return src, err
	}
	recs, err := r.led.Records(ctx, ledger.Query{Limit: 1})
	if err != nil {
		return src, fmt.Errorf("reading ledger: %w", err)
	}
	src.Head = "empty"
	if len(recs) == 1 {
		src.Head = recs[0].ID + " " + recs[0].Hash
	}
	return src, nil
}

// heldRepositories is env's repository of every app the ledger shows env
// holding or having held (a promotion or rollback into it), by the
// configuration's pattern: the only repositories its pods may pull from.
// Every record of env is read and checked, not a filter on the kinds, so
// one whose kind was edited fails the export rather than vanishing.
func (r *Reader) heldRepositories(ctx context.Context, env *config.Environment) ([]string, error) {
	recs, err := r.led.Records(ctx, ledger.Query{Env: env.Name})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	var out []string
	for _, rec := range recs {
		if err := r.authentic(ctx, rec); err != nil {
			return nil, err
		}
		if rec.Kind != ledger.KindPromotion && rec.Kind != ledger.KindRollback {
			continue
		}
		repo, err := env.RepositoryFor(rec.App)
		if err != nil {
			return nil, err
		}
		out = append(out, repo)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// allRevoked is every digest revoked for any app and the content its
// revocation covers: per app and digest, the latest revocation or
// unrevocation wins, each record checked against the log as decisions
// check it. Every record of the revocation chains is read and checked,
// not a filter on the kinds, so a revocation whose kind was edited fails
// the export rather than vanishing from it.
func (r *Reader) allRevoked(ctx context.Context) ([]admission.Revoked, error) {
	recs, err := r.led.Records(ctx, ledger.Query{Env: ledger.AllEnvs})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	seen := map[string]bool{}
	var out []admission.Revoked
	for _, rec := range recs { // newest first
		if err := r.authentic(ctx, rec); err != nil {
			return nil, err
		}
		if rec.Kind != ledger.KindRevocation && rec.Kind != ledger.KindUnrevocation {
			continue
		}
		key := rec.App + "@" + rec.Digest
		if seen[key] {
			continue
		}
		seen[key] = true
		if rec.Kind != ledger.KindRevocation {
			continue
		}
		for _, d := range append([]string{rec.Digest}, rec.Content...) {
			out = append(out, admission.Revoked{Digest: d, App: rec.App, Revocation: rec.ID})
		}
	}
	return out, nil
}

func controllerNames() string {
	s := make([]string, len(admission.Controllers))
	for i, c := range admission.Controllers {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
