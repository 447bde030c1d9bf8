package promote

import (
	"context"

	"github.com/promote-dev/promote/promote/envrepos"
)

// The ECR repository administration of `promote envs`, as the command line
// renders it; package envrepos does the work.
type (
	EnvsReport   = envrepos.Report
	EnvRepo      = envrepos.Repo
	ApplyOptions = envrepos.ApplyOptions
)

// SeverityError marks a finding that makes envs check and apply exit 4.
const SeverityError = envrepos.SeverityError

// CheckEnvs reports the ECR repository of every ECR environment for apps
// (every app in the ledger when none is named); it changes nothing.
func (e *Engine) CheckEnvs(ctx context.Context, apps []string) (*EnvsReport, error) {
	return e.envAdmin().Check(ctx, apps)
}

// ApplyEnvs creates the missing ECR repositories of apps and, as opts
// allow, fixes the tag mutability of existing ones (envrepos.Admin.Apply).
func (e *Engine) ApplyEnvs(ctx context.Context, apps []string, opts ApplyOptions) (*EnvsReport, error) {
	return e.envAdmin().Apply(ctx, apps, opts)
}

func (e *Engine) envAdmin() *envrepos.Admin {
	a := &envrepos.Admin{Config: e.cfg, Ledger: e.led, Log: e.log, Now: e.now}
	if e.ecr != nil {
		a.Registries = e.ecr.byEnv
	}
	return a
}
