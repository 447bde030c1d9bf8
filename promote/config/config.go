// Package config loads and validates environments.yaml: the environments an
// image is promoted through, their repository patterns, tag policies and gates.
// Every problem it reports is an *errs.ConfigError naming file, line and field.
package config

import (
	"slices"
	"strings"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/policy"
)

// Version is the only schema version this package reads.
const Version = 1

// DefaultLedger is the ledger location when the config names none; it is
// resolved against the config file's directory.
const DefaultLedger = ".promote/ledger.db"

// TagPolicy says whether tags in an environment may move.
type TagPolicy string

// Tag policies.
const (
	Mutable   TagPolicy = "mutable"
	Immutable TagPolicy = "immutable"
)

// Derived tag kinds: which tags are written when the source tag is moving.
const (
	DeriveVersion  = "version"  // label org.opencontainers.image.version
	DeriveRevision = "revision" // label org.opencontainers.image.revision, first 12 characters
)

// Config is a loaded, fully validated environments.yaml. It is not modified
// after Load or Parse returns, so it may be shared between goroutines.
type Config struct {
	File         string // the path it was read from, as given
	Version      int
	Ledger       string   // a file path resolved against File's directory, or s3://bucket/prefix
	LedgerKey    string   // the file of the ledger's note signer key, resolved like Ledger; "" if none
	LedgerPublic string   // the ledger's note verifier key, or the file holding it; "" if none
	Witnesses    []string // repositories checkpoints are published to; nil: each environment's default
	MovingTags   []string // tag names that move; always includes "latest"
	DeriveTags   []string // DeriveVersion and/or DeriveRevision, in the configured order
	Limits       Limits   // bounds on the manifest tree read from a source
	Environments []*Environment
}

// Environment is one stage of the pipeline.
type Environment struct {
	Name       string
	From       string // the environment it is promoted from; "" for a first environment
	Repository string // pattern after ${VAR} expansion, still holding {app}
	Tags       TagPolicy
	// PointerTag, if set, is a tag (such as "current") that always names
	// what the environment holds, for deploy systems that follow a tag: each
	// promotion and rollback moves it. It is the one tag that moves in an
	// immutable environment, so an ECR repository must exclude it from
	// immutability. The ledger stays the truth.
	PointerTag string
	Gates      []Gate
	AWS        *AWS // nil unless the environment has an aws block
	// Attest, if set, signs a promotion attestation for every promotion
	// into the environment and attaches it to the promoted digest.
	Attest *Attest
	// Windows are when promotions may enter (allow spans, denied dates),
	// each in its IANA time zone; none: any time.
	Windows []policy.Window
	// Soak is how long a digest must have been current in From before it
	// may enter (0: no soak).
	Soak time.Duration
	// BreakGlass, if set, lets `promote to --break-glass TEXT` pass a
	// closed window or a freeze; nil: never.
	BreakGlass *BreakGlass
	// Approvals, if set, is how many signed approvals, by whom, a digest
	// needs before it may enter.
	Approvals *Approvals
	// MaxImageAge and MaxBaseAge are how old the image the environment
	// runs, and the base it was built on, may be before promote report
	// calls them old (DefaultMaxAge when not configured).
	MaxImageAge, MaxBaseAge time.Duration
	Line                    int // line of the environment in File
}

// AWS holds the optional per-environment settings for ECR.
type AWS struct {
	Region  string // default: the SDK's (AWS_REGION, the profile)
	Profile string // a shared-config profile; default: the SDK's default chain
	RoleArn string // assumed for this environment (a prod account)
	// RegistryID is the account whose registry holds the repository; default:
	// the account in the repository host (<account>.dkr.ecr.<region>.amazonaws.com).
	RegistryID string
	// ImmutabilityExclusions are further tag filters (ECR WILDCARD filters,
	// such as release-*) that envs apply excludes from immutability.
	ImmutabilityExclusions []string
}

// Attest is an environment's promotion-attestation signing key.
type Attest struct {
	Key         string // cosign's key format or PKCS#8 PEM; resolved against the config file's directory
	PasswordEnv string // variable holding the key's password (default PROMOTE_ATTEST_KEY_PASSWORD, then COSIGN_PASSWORD)
}

// Gate is one configured gate of an environment.
type Gate struct {
	Kind string // the registered gate kind, e.g. "labels"
	Gate gates.Gate
	Line int
}

// Env returns the environment called name, or an error wrapping
// errs.ErrUsage that lists the known names.
func (c *Config) Env(name string) (*Environment, error) {
	for _, e := range c.Environments {
		if e.Name == name {
			return e, nil
		}
	}
	return nil, errs.Usagef("unknown environment %q; %s defines: %s", name, c.File, strings.Join(c.names(), ", "))
}

// IsMoving reports whether tag is a moving tag name (movingTags, or any
// environment's pointer tag), which is never written into an immutable
// environment as one of its tags.
func (c *Config) IsMoving(tag string) bool {
	if slices.Contains(c.MovingTags, tag) {
		return true
	}
	for _, e := range c.Environments {
		if e.PointerTag == tag {
			return true
		}
	}
	return false
}

// Downstream returns the environments promoted from env, in file order.
func (c *Config) Downstream(env string) []*Environment {
	var out []*Environment
	for _, e := range c.Environments {
		if e.From == env {
			out = append(out, e)
		}
	}
	return out
}

// Immutable reports whether tags in e must never move.
func (e *Environment) Immutable() bool { return e.Tags == Immutable }

func (c *Config) names() []string {
	out := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		out[i] = e.Name
	}
	return out
}
