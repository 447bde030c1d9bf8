package promote

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
)

// Pipeline is the configured environments in order: what envs list shows
// and config check checks.
type Pipeline struct {
	Config       string        `json:"config"`
	Ledger       string        `json:"ledger"`
	Environments []PipelineEnv `json:"environments"`
	// LedgerKey, by config check: the ledger key's verifier key when it
	// loads ("ok: KEY"), or why it does not; "" when none is configured.
	LedgerKey string `json:"ledgerKey,omitempty"`
	Problems  int    `json:"problems"` // config check: what it found wrong
}

// PipelineEnv is one environment of a Pipeline.
type PipelineEnv struct {
	Name       string   `json:"name"`
	From       string   `json:"from,omitempty"`
	Repository string   `json:"repository"` // the pattern, {app} included
	Registry   string   `json:"registry"`   // its host
	Tags       string   `json:"tags"`       // mutable | immutable
	PointerTag string   `json:"pointerTag,omitempty"`
	Gates      []string `json:"gates"`
	ECR        bool     `json:"ecr,omitempty"`
	Attest     string   `json:"attest,omitempty"` // the attestation key file
	// Checks, by config check: the attestation key ("ok" or why not) and,
	// with --online, the registry ("ok" or why not).
	AttestKey string `json:"attestKey,omitempty"`
	Reach     string `json:"reach,omitempty"`
}

// DescribePipeline loads the configuration at path (its gates, keys and
// files included, as every command does) and describes its environments.
// It opens no ledger and reaches no registry.
func DescribePipeline(path string) (*Pipeline, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return describe(cfg), nil
}

func describe(cfg *config.Config) *Pipeline {
	p := &Pipeline{Config: cfg.File, Ledger: cfg.Ledger}
	for _, env := range cfg.Environments {
		pe := PipelineEnv{Name: env.Name, From: env.From, Repository: env.Repository, Registry: hostOf(env.Repository),
			Tags: string(env.Tags), PointerTag: env.PointerTag, Gates: []string{}, ECR: env.AWS != nil}
		for _, g := range env.Gates {
			pe.Gates = append(pe.Gates, g.Kind)
		}
		if env.Attest != nil {
			pe.Attest = env.Attest.Key
		}
		p.Environments = append(p.Environments, pe)
	}
	return p
}

// CheckConfig loads and checks the configuration at o.ConfigPath without
// touching its ledger: every gate's keys and files (loading does that),
// and each attestation key, decrypted with its password. online also
// reaches each registry (a ping, and authentication where it asks).
// Problems are listed per environment and counted; the error then wraps
// errs.ErrConfig.
func CheckConfig(ctx context.Context, o OpenOptions, online bool) (*Pipeline, error) {
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	p := describe(cfg)
	checkLedgerKey(cfg, o.Keys, p)
	for i, env := range cfg.Environments {
		if env.Attest == nil {
			continue
		}
		p.Environments[i].AttestKey = "ok"
		if _, err := attest.LoadSigner(env.Attest.Key, env.Attest.PasswordEnv); err != nil {
			p.Environments[i].AttestKey, p.Problems = err.Error(), p.Problems+1
		}
	}
	if online {
		if err := reachAll(ctx, cfg, o, p); err != nil {
			return p, err
		}
	}
	if p.Problems > 0 {
		return p, fmt.Errorf("%w: %s: %d problem(s), listed by environment", errs.ErrConfig, cfg.File, p.Problems)
	}
	return p, nil
}

// checkLedgerKey loads the ledger key (and ledger.public), as a writer
// would, without opening the ledger: the key's file, its mode, its form,
// and that ledger.public is its verifier key.
func checkLedgerKey(cfg *config.Config, keys KeySource, p *Pipeline) {
	k, err := ledgerKey(cfg, keys)
	switch {
	case err != nil:
		p.LedgerKey, p.Problems = err.Error(), p.Problems+1
		return
	case k == nil:
		return
	}
	p.LedgerKey = "ok: " + k.Public
	if cfg.LedgerPublic == "" {
		return
	}
	vkey, err := verifierKey(cfg, keys)
	switch {
	case err != nil:
		p.LedgerKey, p.Problems = err.Error(), p.Problems+1
	case vkey != k.Public:
		p.LedgerKey, p.Problems = fmt.Sprintf("ledger.public %s is not the verifier key of the ledger key (%s)", vkey, k.Public), p.Problems+1
	}
}

// reachAll checks access to each registry of p once, with the clients a
// promotion would build (ECR credentials included).
func reachAll(ctx context.Context, cfg *config.Config, o OpenOptions, p *Pipeline) error {
	_, reg, err := clients(ctx, cfg, o)
	if err != nil {
		return err
	}
	answers := map[string]string{}
	var hosts []string
	for _, e := range p.Environments {
		if _, seen := answers[e.Registry]; !seen {
			answers[e.Registry] = ""
			hosts = append(hosts, e.Registry)
		}
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		answers[h] = "ok"
		if err := reg.CheckAccess(ctx, h); err != nil {
			answers[h] = err.Error()
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return context.Cause(ctx)
		}
	}
	for i := range p.Environments {
		if p.Environments[i].Reach = answers[p.Environments[i].Registry]; p.Environments[i].Reach != "ok" {
			p.Problems++
		}
	}
	return nil
}

func hostOf(repository string) string {
	host, _, _ := strings.Cut(repository, "/")
	return host
}
