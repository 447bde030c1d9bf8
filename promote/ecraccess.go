package promote

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

// ECR is what a configuration needs of Amazon ECR: credentials for the
// registries of its ECR environments, and their scans. An environment is
// in ECR when its repository host is an ECR host or it has an aws block
// (an ECR-compatible endpoint, reached through AWS_ENDPOINT_URL_ECR).
type ECR struct {
	byHost   map[string]ecr.Registry
	byEnv    map[string]ecr.Registry
	interval time.Duration
	ids      sync.Map // env name -> caller identity ARN
}

// identity returns the AWS caller identity env's credentials act as, once
// per environment, and how it was established (ledger.ViaAWSSTS: STS
// authenticated the credentials); "", "" when env is not in ECR or STS
// cannot say.
func (x *ECR) identity(ctx context.Context, env string) (arn, via string) {
	if x == nil {
		return "", ""
	}
	if v, ok := x.ids.Load(env); ok {
		return v.(string), ledger.ViaAWSSTS
	}
	reg, ok := x.byEnv[env]
	if !ok {
		return "", ""
	}
	arn, err := reg.Client.CallerIdentity(ctx)
	if err != nil || arn == "" {
		return "", "" // best effort: the record still names the CI identity, user and host
	}
	x.ids.Store(env, arn)
	return arn, ledger.ViaAWSSTS
}

// ECROptions tune ECR access.
type ECROptions struct {
	ScanInterval time.Duration // between polls of an unfinished scan; default 5s
}

// NewECR prepares clients for cfg's ECR environments; it calls no API.
// Environments sharing a host and AWS settings share one client.
func NewECR(ctx context.Context, cfg *config.Config, o ECROptions) (*ECR, error) {
	targets, err := ecrTargets(cfg)
	if err != nil {
		return nil, err
	}
	x := &ECR{byHost: map[string]ecr.Registry{}, byEnv: map[string]ecr.Registry{}, interval: o.ScanInterval}
	clients := map[ecr.Options]*ecr.Client{}
	for _, t := range targets {
		c, ok := clients[t.opts]
		if !ok {
			if c, err = ecr.New(ctx, t.opts); err != nil {
				return nil, fmt.Errorf("environment %s: %w", t.env, err)
			}
			clients[t.opts] = c
		}
		reg := ecr.Registry{Host: t.host, RegistryID: t.account, Client: c}
		if _, seen := x.byHost[t.host]; !seen {
			x.byHost[t.host] = reg
		}
		x.byEnv[t.env] = reg
	}
	return x, nil
}

// ecrTarget is where an ECR environment's repositories live, and how to reach them.
type ecrTarget struct {
	env, host, account string
	opts               ecr.Options
}

// ecrTargets finds cfg's ECR environments without I/O. An environment that
// is in ECR only by its aws block must name its account: a configuration
// error otherwise, which every command reports, even those that open no
// ECR client.
func ecrTargets(cfg *config.Config) ([]ecrTarget, error) {
	var out []ecrTarget
	for i, env := range cfg.Environments {
		host, _, _ := strings.Cut(env.Repository, "/")
		account, region, isECR := ecr.ParseHost(host)
		if env.AWS == nil && !isECR {
			continue
		}
		var opts ecr.Options
		if env.AWS != nil {
			opts = ecr.Options{Region: env.AWS.Region, Profile: env.AWS.Profile, RoleArn: env.AWS.RoleArn}
			if env.AWS.RegistryID != "" {
				account = env.AWS.RegistryID
			}
		}
		if opts.Region == "" {
			opts.Region = region
		}
		if account == "" {
			return nil, &errs.ConfigError{File: cfg.File, Line: env.Line, Field: fmt.Sprintf("environments[%d].aws.registryId", i),
				Msg: fmt.Sprintf("required: %s is not an ECR host (<account>.dkr.ecr.<region>.amazonaws.com), so the account must be named", host)}
		}
		out = append(out, ecrTarget{env: env.Name, host: host, account: account, opts: opts})
	}
	return out, nil
}

// Keychain returns registry credentials for the ECR hosts, chained before
// the docker config and its credential helpers for every other host.
func (x *ECR) Keychain() authn.Keychain {
	regs := make([]ecr.Registry, 0, len(x.byHost))
	for _, r := range x.byHost {
		regs = append(regs, r)
	}
	return authn.NewMultiKeychain(ecr.NewKeychain(regs...), authn.DefaultKeychain)
}

// scans returns the scan reader of repo in env, or nil when env is not in ECR.
func (x *ECR) scans(env, repoPath string) gates.RegistryScans {
	if x == nil {
		return nil
	}
	reg, ok := x.byEnv[env]
	if !ok {
		return nil
	}
	return ecrScans{reg: reg, repo: repoPath, wait: ecr.ScanWait{Interval: x.interval}}
}

type ecrScans struct {
	reg  ecr.Registry
	repo string
	wait ecr.ScanWait
}

func (s ecrScans) ScanFindings(ctx context.Context, d v1.Hash) ([]byte, error) {
	return s.reg.Client.ScanFindings(ctx, s.reg.RegistryID, s.repo, d.String(), s.wait)
}

// WithECR gives the engine ECR access: the scan gate's ecr source reads through it.
func WithECR(x *ECR) Option {
	return func(e *Engine) error { e.ecr = x; return nil }
}
