package envrepos

import (
	"fmt"
	"slices"
	"strings"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
)

// What envs apply does and envs check finds, decided without I/O from an
// environment and what ECR says of its repository.

// AttachmentFilter is the tag mutability exclusion filter that lets cosign's
// legacy attachment tags (sha256-<hex>.sig, .att, .sbom) be rewritten in an
// immutable repository: cosign adds a second signature by rewriting the tag.
const AttachmentFilter = "sha256-*"

// attachmentTags stand for the legacy tags AttachmentFilter must cover.
var attachmentTags = []string{"sha256-0123abcd.sig", "sha256-0123abcd.att", "sha256-0123abcd.sbom"}

type repoPlan struct {
	action     string // ActionCreated, ActionChanged or ActionUnchanged
	mutability string
	filters    []string
}

// wantFilters are the exclusion filters an immutable environment's
// repository gets: the attachment tags, the environment's pointer tag, the
// filters its aws block names, and any further filters asked for.
func wantFilters(env *config.Environment, o ApplyOptions) []string {
	var out []string
	if !o.NoExcludeAttachments {
		out = append(out, AttachmentFilter)
	}
	if env.PointerTag != "" {
		out = append(out, env.PointerTag)
	}
	if env.AWS != nil {
		for _, f := range env.AWS.ImmutabilityExclusions {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	for _, f := range o.ExclusionFilters {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// planRepo decides, without I/O, what envs apply does to one repository
// (info nil: it is missing).
func planRepo(env *config.Environment, info *ecr.RepoInfo, o ApplyOptions) repoPlan {
	want := wantFilters(env, o)
	fresh := repoPlan{mutability: ecr.Mutable}
	if env.Immutable() {
		fresh.mutability = ecr.Immutable
		if len(want) > 0 {
			fresh = repoPlan{mutability: ecr.ImmutableWithExclusion, filters: want}
		}
	}
	switch {
	case info == nil:
		fresh.action = ActionCreated
		return fresh
	case !o.FixMutability || !env.Immutable():
		return repoPlan{action: ActionUnchanged}
	case !info.ImmutableTags():
		fresh.action = ActionChanged
		return fresh
	}
	filters := slices.Clone(info.ExclusionFilters)
	for _, f := range want {
		if !slices.Contains(filters, f) && (f != AttachmentFilter || !coversAttachments(info)) {
			filters = append(filters, f)
		}
	}
	if len(filters) == len(info.ExclusionFilters) {
		return repoPlan{action: ActionUnchanged}
	}
	return repoPlan{action: ActionChanged, mutability: ecr.ImmutableWithExclusion, filters: filters}
}

// repoFindings judges one repository (info nil: it is missing) against its environment.
func repoFindings(env *config.Environment, info *ecr.RepoInfo) []Finding {
	if info == nil {
		return []Finding{{SeverityError, "the repository does not exist; promote envs apply creates it"}}
	}
	var out []Finding
	if env.PointerTag != "" && info.ImmutableTags() && !info.Overwritable(env.PointerTag) {
		out = append(out, Finding{SeverityError, fmt.Sprintf("pointer tag %q is not excluded from immutability, so ECR refuses to move it: "+
			"promote envs apply --fix-mutability adds the filter", env.PointerTag)})
	}
	switch {
	case env.Immutable() && !info.ImmutableTags():
		out = append(out, Finding{SeverityError, fmt.Sprintf("the environment is immutable but the repository is %s, so its tags could be moved "+
			"and promote to refuses it; promote envs apply --fix-mutability sets it IMMUTABLE", info.TagMutability)})
	case env.Immutable() && !coversAttachments(info):
		out = append(out, Finding{SeverityWarning, "no exclusion filter covers " + AttachmentFilter + ": ECR refuses to rewrite a legacy cosign " +
			".sig/.att tag, so a later signature or attestation of a promoted image cannot follow it (OCI 1.1 referrers still work); " +
			"promote envs apply --fix-mutability adds the filter"})
	case !env.Immutable() && info.ImmutableTags():
		out = append(out, Finding{SeverityWarning, fmt.Sprintf("the environment's tags are mutable but the repository is %s: ECR refuses to move a tag there", info.TagMutability)})
	}
	if !info.ScanOnPush {
		out = append(out, Finding{SeverityWarning, "scan on push is off: images are not scanned as they arrive unless the registry's scanning configuration covers this repository"})
	}
	return out
}

// coversAttachments reports whether legacy attachment tags may be rewritten.
func coversAttachments(info *ecr.RepoInfo) bool {
	for _, t := range attachmentTags {
		if !info.Overwritable(t) {
			return false
		}
	}
	return true
}

// validFilter is ECR's rule for a WILDCARD filter value.
func validFilter(f string) bool {
	if len(f) < 1 || len(f) > 128 {
		return false
	}
	return strings.Trim(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._*-") == ""
}
