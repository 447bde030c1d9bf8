// Package envrepos checks and sets up the ECR repositories of a
// configuration's environments (`promote envs check` and `envs apply`): tag
// mutability and its exclusion filters, scan on push, and lifecycle policies
// that would expire what the ledger still needs. It never promotes.
package envrepos

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

// Repo is the state of one environment's ECR repository for one app.
type Repo struct {
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

// Skipped is an environment envs check and apply leave alone, and why.
type Skipped struct {
	Env    string `json:"env"`
	Reason string `json:"reason"`
}

// Report is what envs check found, or envs apply did and then found,
// for every ECR environment and app.
type Report struct {
	Apps         []string  `json:"apps"`
	AppsFrom     string    `json:"appsFrom"` // "arguments", or "ledger" when none were named
	Repositories []Repo    `json:"repositories"`
	Skipped      []Skipped `json:"skipped"`
	Errors       int       `json:"errors"`   // error findings
	Warnings     int       `json:"warnings"` // warning findings
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

// count adds row's findings to the report's totals.
func (r *Report) count(row Repo) {
	for _, f := range row.Findings {
		if f.Severity == SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
}
