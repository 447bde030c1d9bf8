package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

// Finding severities: an error makes envs check exit 4; a warning does not.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Apply actions, per repository.
const (
	ActionCreated   = "created"
	ActionChanged   = "changed"
	ActionUnchanged = "unchanged"
)

// Finding is one thing wrong (error) or worth knowing (warning) about a repository.
type Finding struct {
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// EnvRepo is the state of one environment's ECR repository for one app.
type EnvRepo struct {
	Env              string    `json:"env"`
	App              string    `json:"app"`
	Repository       string    `json:"repository"` // as configured: host/path
	RegistryID       string    `json:"registryId"`
	Name             string    `json:"name"` // the ECR repository name (path)
	Exists           bool      `json:"exists"`
	TagMutability    string    `json:"tagMutability,omitempty"`
	ExclusionFilters []string  `json:"exclusionFilters,omitempty"`
	ScanOnPush       bool      `json:"scanOnPush"`
	Encryption       string    `json:"encryption,omitempty"`
	Action           string    `json:"action,omitempty"` // envs apply: created, changed or unchanged
	Error            string    `json:"error,omitempty"`  // reading or changing it failed
	Findings         []Finding `json:"findings"`
}

// SkippedEnv is an environment envs check and apply leave alone, and why.
type SkippedEnv struct {
	Env    string `json:"env"`
	Reason string `json:"reason"`
}

// EnvsReport is what envs check found, or envs apply did and then found,
// for every ECR environment and app.
type EnvsReport struct {
	Apps         []string     `json:"apps"`
	AppsFrom     string       `json:"appsFrom"` // "arguments", or "ledger" when none were named
	Repositories []EnvRepo    `json:"repositories"`
	Skipped      []SkippedEnv `json:"skipped"`
	Errors       int          `json:"errors"`   // error findings
	Warnings     int          `json:"warnings"` // warning findings
}

// ApplyOptions say what envs apply may do beyond creating missing repositories.
type ApplyOptions struct {
	// NoExcludeAttachments creates immutable environments' repositories
	// IMMUTABLE, without the AttachmentFilter exclusion. The zero value
	// sets the exclusion: signatures must travel, and cosign adds one by
	// rewriting its legacy tag, which an IMMUTABLE repository refuses.
	NoExcludeAttachments bool
	// FixMutability sets an immutable environment's existing repository
	// IMMUTABLE(_WITH_EXCLUSION) when it lets tags move, and adds missing
	// exclusion filters to an immutable one; it never removes a filter.
	FixMutability bool
	// ExclusionFilters are further WILDCARD filters for immutable
	// environments (e.g. a pointer tag such as "current").
	ExclusionFilters []string
}

// CheckEnvs reports the ECR repository of every ECR environment for apps
// (every app in the ledger when none is named); it changes nothing.
func (e *Engine) CheckEnvs(ctx context.Context, apps []string) (*EnvsReport, error) {
	return e.envs(ctx, apps, nil)
}

// ApplyEnvs creates the missing repositories of apps in every ECR
// environment — an immutable environment's IMMUTABLE_WITH_EXCLUSION
// (AttachmentFilter, its pointer tag and opts.ExclusionFilters) or IMMUTABLE, a mutable
// one's MUTABLE, both with scan on push — and changes an existing one only
// as opts.FixMutability allows. The report shows the state afterwards.
func (e *Engine) ApplyEnvs(ctx context.Context, apps []string, opts ApplyOptions) (*EnvsReport, error) {
	for _, f := range opts.ExclusionFilters {
		if !validFilter(f) {
			return nil, errs.Usagef("exclusion filter %q: expected 1 to 128 of a-z A-Z 0-9 . _ - and the wildcard *", f)
		}
	}
	for _, env := range e.cfg.Environments {
		if n := len(wantFilters(env, opts)); n > 5 {
			return nil, errs.Usagef("environment %s needs %d exclusion filters: ECR allows at most 5", env.Name, n)
		}
	}
	return e.envs(ctx, apps, &opts)
}

// CheckTarget says whether app may be promoted into env as far as env's
// ECR repository goes: an error wrapping errs.ErrNotFound when it does not
// exist, one wrapping errs.ErrConflict when env is immutable and the
// repository lets tags move (MUTABLE or MUTABLE_WITH_EXCLUSION); nil for
// an environment not in ECR. It makes one DescribeRepositories call and
// writes nothing; a promotion is meant to call it before copying.
func (e *Engine) CheckTarget(ctx context.Context, env *config.Environment, app string) error {
	reg, ok := e.ecrRegistry(env.Name)
	if !ok {
		return nil
	}
	repo, err := env.RepositoryFor(app)
	if err != nil {
		return err
	}
	_, path, _ := strings.Cut(repo, "/")
	info, err := reg.Client.DescribeRepository(ctx, reg.RegistryID, path)
	switch {
	case err != nil:
		return fmt.Errorf("checking %s in %s: %w", repo, env.Name, err)
	case info == nil:
		return fmt.Errorf("%w: ECR repository %s (registry %s) of environment %s does not exist; promote envs apply %s creates it",
			errs.ErrNotFound, path, reg.RegistryID, env.Name, app)
	case env.Immutable() && !info.ImmutableTags():
		return errs.Conflictf("environment %s is immutable but its ECR repository %s is %s, so its tags could be moved; "+
			"run promote envs apply --fix-mutability %s, or set it IMMUTABLE", env.Name, path, info.TagMutability, app)
	}
	return nil
}

func (e *Engine) ecrRegistry(env string) (ecr.Registry, bool) {
	if e.ecr == nil {
		return ecr.Registry{}, false
	}
	reg, ok := e.ecr.byEnv[env]
	return reg, ok
}

// envs checks (apply nil) or applies, then checks, every ECR environment's
// repository of every app. It reads or changes every repository it can
// and then returns the first failure, with the report.
func (e *Engine) envs(ctx context.Context, apps []string, apply *ApplyOptions) (*EnvsReport, error) {
	rep := &EnvsReport{Repositories: []EnvRepo{}, Skipped: []SkippedEnv{}}
	if err := e.envApps(ctx, rep, apps); err != nil {
		return nil, err
	}
	// Plan first: every repository name, so a bad app name fails before any call.
	type target struct {
		row EnvRepo
		env *config.Environment
		reg ecr.Registry
	}
	var targets []target
	for _, env := range e.cfg.Environments {
		reg, ok := e.ecrRegistry(env.Name)
		if !ok {
			rep.Skipped = append(rep.Skipped, SkippedEnv{Env: env.Name, Reason: e.notECR(env)})
			continue
		}
		for _, app := range rep.Apps {
			repo, err := env.RepositoryFor(app)
			if err != nil {
				return nil, err
			}
			_, path, _ := strings.Cut(repo, "/")
			targets = append(targets, target{EnvRepo{Env: env.Name, App: app, Repository: repo, RegistryID: reg.RegistryID, Name: path}, env, reg})
		}
	}
	var failed []error
	for _, t := range targets {
		row := t.row
		info, action, err := e.envRepo(ctx, t.env, t.reg, row.Name, apply)
		row.Action = action
		if err != nil {
			row.Error = err.Error()
			failed = append(failed, fmt.Errorf("%s in %s: %w", row.Repository, row.Env, err))
		} else {
			row.Findings = repoFindings(t.env, info)
		}
		if err == nil && info != nil {
			lf, lerr := e.lifecycleFindings(ctx, t.env, t.reg, row.App, row.Name)
			if lerr != nil {
				row.Error = lerr.Error()
				failed = append(failed, fmt.Errorf("lifecycle policy of %s in %s: %w", row.Repository, row.Env, lerr))
			}
			row.Findings = append(row.Findings, lf...)
		}
		if info != nil {
			row.Exists, row.TagMutability, row.ExclusionFilters = true, info.TagMutability, info.ExclusionFilters
			row.ScanOnPush, row.Encryption = info.ScanOnPush, info.Encryption
		}
		if row.Findings == nil {
			row.Findings = []Finding{}
		}
		for _, f := range row.Findings {
			if f.Severity == SeverityError {
				rep.Errors++
			} else {
				rep.Warnings++
			}
		}
		rep.Repositories = append(rep.Repositories, row)
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("%d of %d repositories could not be read or changed; the first: %w", len(failed), len(targets), failed[0])
	}
	return rep, nil
}

// envRepo reads one repository and, for apply, carries out its plan.
func (e *Engine) envRepo(ctx context.Context, env *config.Environment, reg ecr.Registry, path string, apply *ApplyOptions) (*ecr.RepoInfo, string, error) {
	info, err := reg.Client.DescribeRepository(ctx, reg.RegistryID, path)
	if err != nil || apply == nil {
		return info, "", err
	}
	p := planRepo(env, info, *apply)
	switch p.action {
	case ActionCreated:
		created, err := reg.Client.CreateRepository(ctx, reg.RegistryID, path, ecr.CreateOptions{Mutability: p.mutability, ExclusionFilters: p.filters, ScanOnPush: true})
		if err == nil {
			e.log.Info("created ECR repository", "env", env.Name, "repository", path, "mutability", p.mutability)
			return created, ActionCreated, nil
		}
		if !errors.Is(err, ecr.ErrRepositoryExists) {
			return nil, "", err
		}
		// Created by someone else since it was read: judge what is there.
		if info, err = reg.Client.DescribeRepository(ctx, reg.RegistryID, path); err != nil {
			return nil, "", err
		}
		if info == nil {
			return nil, "", fmt.Errorf("repository %s was created by someone else and is gone again", path)
		}
		if p = planRepo(env, info, *apply); p.action != ActionChanged {
			return info, ActionUnchanged, nil
		}
		fallthrough
	case ActionChanged:
		if err := reg.Client.SetTagMutability(ctx, reg.RegistryID, path, p.mutability, p.filters); err != nil {
			return info, "", err
		}
		e.log.Info("changed ECR repository tag mutability", "env", env.Name, "repository", path, "from", info.TagMutability, "to", p.mutability)
		after := *info
		after.TagMutability, after.ExclusionFilters = p.mutability, p.filters
		return &after, ActionChanged, nil
	}
	return info, ActionUnchanged, nil
}

// envApps fills in the apps: those named, or every app the ledger has records of.
func (e *Engine) envApps(ctx context.Context, rep *EnvsReport, apps []string) error {
	rep.AppsFrom, rep.Apps = "arguments", []string{}
	if len(apps) == 0 {
		rep.AppsFrom = "ledger"
		recs, err := e.led.Records(ctx, ledger.Query{})
		if err != nil {
			return fmt.Errorf("listing the ledger's apps: %w", err)
		}
		for _, r := range recs {
			apps = append(apps, r.App)
		}
		slices.Sort(apps)
	}
	for _, a := range apps {
		if !slices.Contains(rep.Apps, a) {
			rep.Apps = append(rep.Apps, a)
		}
	}
	return nil
}

func (e *Engine) notECR(env *config.Environment) string {
	if e.ecr == nil {
		return "no ECR access configured"
	}
	host, _, _ := strings.Cut(env.Repository, "/")
	return fmt.Sprintf("not in ECR: %s is not an ECR host (<account>.dkr.ecr.<region>.amazonaws.com) and the environment has no aws block", host)
}
