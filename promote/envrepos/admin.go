package envrepos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

// Records is what an Admin reads of the ledger.
type Records interface {
	Records(ctx context.Context, q ledger.Query) ([]ledger.Record, error)
}

// Admin checks and sets up the ECR repositories of Config's environments.
// It only reads its fields; a nil Log is silent and a nil Now is time.Now.
type Admin struct {
	Config *config.Config
	// Registries holds the registry of every environment in ECR, by
	// environment name; the others are skipped. Nil: no ECR access is
	// configured at all.
	Registries map[string]ecr.Registry
	// Ledger names the apps when none is given, and the digests a
	// lifecycle policy must not expire.
	Ledger Records
	Log    *slog.Logger
	Now    func() time.Time
}

// Check reports the ECR repository of every ECR environment for apps
// (every app in the ledger when none is named); it changes nothing.
func (a *Admin) Check(ctx context.Context, apps []string) (*Report, error) {
	return a.run(ctx, apps, nil)
}

// Apply creates the missing repositories of apps in every ECR
// environment — an immutable environment's IMMUTABLE_WITH_EXCLUSION
// (AttachmentFilter, its pointer tag and opts.ExclusionFilters) or IMMUTABLE, a mutable
// one's MUTABLE, both with scan on push — and changes an existing one only
// as opts.FixMutability allows. The report shows the state afterwards.
func (a *Admin) Apply(ctx context.Context, apps []string, opts ApplyOptions) (*Report, error) {
	for _, f := range opts.ExclusionFilters {
		if !validFilter(f) {
			return nil, errs.Usagef("exclusion filter %q: expected 1 to 128 of a-z A-Z 0-9 . _ - and the wildcard *", f)
		}
	}
	for _, env := range a.Config.Environments {
		if n := len(wantFilters(env, opts)); n > 5 {
			return nil, errs.Usagef("environment %s needs %d exclusion filters: ECR allows at most 5", env.Name, n)
		}
	}
	return a.run(ctx, apps, &opts)
}

func (a *Admin) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a.Log
}

func (a *Admin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// target is one repository to read or change: an app in an ECR environment.
type target struct {
	row Repo
	env *config.Environment
	reg ecr.Registry
}

// run checks (apply nil) or applies, then checks, every ECR environment's
// repository of every app. It reads or changes every repository it can
// and then returns the first failure, with the report.
func (a *Admin) run(ctx context.Context, apps []string, apply *ApplyOptions) (*Report, error) {
	rep := &Report{Repositories: []Repo{}, Skipped: []Skipped{}}
	if err := a.apps(ctx, rep, apps); err != nil {
		return nil, err
	}
	targets, err := a.targets(rep)
	if err != nil {
		return nil, err
	}
	var failed []error
	for _, t := range targets {
		row := t.row
		info, action, err := a.repo(ctx, t.env, t.reg, row.Name, apply)
		row.Action = action
		if err != nil {
			row.Error = err.Error()
			failed = append(failed, fmt.Errorf("%s in %s: %w", row.Repository, row.Env, err))
		} else {
			row.Findings = repoFindings(t.env, info)
		}
		if err == nil && info != nil {
			lf, lerr := a.lifecycleFindings(ctx, t.env, t.reg, row.App, row.Name)
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
		rep.count(row)
		rep.Repositories = append(rep.Repositories, row)
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("%d of %d repositories could not be read or changed; the first: %w", len(failed), len(targets), failed[0])
	}
	return rep, nil
}

// targets plans every repository name first, so that a bad app name fails
// before any call; environments not in ECR go to rep.Skipped.
func (a *Admin) targets(rep *Report) ([]target, error) {
	var out []target
	for _, env := range a.Config.Environments {
		reg, ok := a.Registries[env.Name]
		if !ok {
			rep.Skipped = append(rep.Skipped, Skipped{Env: env.Name, Reason: a.notECR(env)})
			continue
		}
		for _, app := range rep.Apps {
			repo, err := env.RepositoryFor(app)
			if err != nil {
				return nil, err
			}
			_, path, _ := strings.Cut(repo, "/")
			out = append(out, target{Repo{Env: env.Name, App: app, Repository: repo, RegistryID: reg.RegistryID, Name: path}, env, reg})
		}
	}
	return out, nil
}

// repo reads one repository and, for apply, carries out its plan.
func (a *Admin) repo(ctx context.Context, env *config.Environment, reg ecr.Registry, path string, apply *ApplyOptions) (*ecr.RepoInfo, string, error) {
	info, err := reg.Client.DescribeRepository(ctx, reg.RegistryID, path)
	if err != nil || apply == nil {
		return info, "", err
	}
	p := planRepo(env, info, *apply)
	switch p.action {
	case ActionCreated:
		created, err := reg.Client.CreateRepository(ctx, reg.RegistryID, path, ecr.CreateOptions{Mutability: p.mutability, ExclusionFilters: p.filters, ScanOnPush: true})
		if err == nil {
			a.log().Info("created ECR repository", "env", env.Name, "repository", path, "mutability", p.mutability)
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
		a.log().Info("changed ECR repository tag mutability", "env", env.Name, "repository", path, "from", info.TagMutability, "to", p.mutability)
		after := *info
		after.TagMutability, after.ExclusionFilters = p.mutability, p.filters
		return &after, ActionChanged, nil
	}
	return info, ActionUnchanged, nil
}

// apps fills in the apps: those named, or every app the ledger has records of.
func (a *Admin) apps(ctx context.Context, rep *Report, apps []string) error {
	rep.AppsFrom, rep.Apps = "arguments", []string{}
	if len(apps) == 0 {
		rep.AppsFrom = "ledger"
		recs, err := a.Ledger.Records(ctx, ledger.Query{})
		if err != nil {
			return fmt.Errorf("listing the ledger's apps: %w", err)
		}
		for _, r := range recs {
			if r.App != ledger.AllApps { // a freeze's chain: no app of its own
				apps = append(apps, r.App)
			}
		}
		slices.Sort(apps)
	}
	for _, app := range apps {
		if !slices.Contains(rep.Apps, app) {
			rep.Apps = append(rep.Apps, app)
		}
	}
	return nil
}

func (a *Admin) notECR(env *config.Environment) string {
	if a.Registries == nil {
		return "no ECR access configured"
	}
	host, _, _ := strings.Cut(env.Repository, "/")
	return fmt.Sprintf("not in ECR: %s is not an ECR host (<account>.dkr.ecr.<region>.amazonaws.com) and the environment has no aws block", host)
}
