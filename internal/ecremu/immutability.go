package ecremu

import (
	"fmt"
	"path"
	"regexp"
)

// Image tag mutability settings (ECR's ImageTagMutability enum).
const (
	Mutable                = "MUTABLE"
	Immutable              = "IMMUTABLE"
	ImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
	MutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
)

// ExclusionFilter is ECR's ImageTagMutabilityExclusionFilter: tags matching a
// WILDCARD filter take the opposite of the repository's mutability.
type ExclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

// Wildcard builds a WILDCARD exclusion filter, e.g. Wildcard("sha256-*").
func Wildcard(filter string) ExclusionFilter {
	return ExclusionFilter{FilterType: "WILDCARD", Filter: filter}
}

var filterValue = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)

// validateMutability checks a mutability setting and its filters the way
// CreateRepository and PutImageTagMutability do.
func validateMutability(mode string, filters []ExclusionFilter) *apiError {
	switch mode {
	case Mutable, Immutable:
		if len(filters) > 0 {
			return invalidParam("imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
		}
		return nil
	case ImmutableWithExclusion, MutableWithExclusion:
		if len(filters) == 0 {
			return invalidParam(fmt.Sprintf("imageTagMutabilityExclusionFilters must be specified when imageTagMutability is %s", mode))
		}
	default:
		return validationErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]", mode))
	}
	if len(filters) > 5 {
		return validationErr("1 validation error detected: Value at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: Member must have length less than or equal to 5")
	}
	for _, f := range filters {
		if f.FilterType != "WILDCARD" {
			return validationErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'imageTagMutabilityExclusionFilters.member.filterType' failed to satisfy constraint: Member must satisfy enum value set: [WILDCARD]", f.FilterType))
		}
		if !filterValue.MatchString(f.Filter) {
			return validationErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'imageTagMutabilityExclusionFilters.member.filter' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{1,128}$", f.Filter))
		}
	}
	return nil
}

// excluded reports whether tag matches one of the repository's filters.
func (repo *repository) excluded(tag string) bool {
	for _, f := range repo.filters {
		// Filter values contain only [0-9a-zA-Z._*-], so path.Match's only
		// special character in play is '*', which is ECR's wildcard.
		if ok, _ := path.Match(f.Filter, tag); ok {
			return true
		}
	}
	return false
}

// tagImmutable reports whether an existing tag may not be written again.
func (repo *repository) tagImmutable(tag string) bool {
	switch repo.mutability {
	case Immutable:
		return true
	case ImmutableWithExclusion:
		return !repo.excluded(tag)
	case MutableWithExclusion:
		return repo.excluded(tag)
	}
	return false
}

// checkTagWrite applies ECR's rule for writing tag: in an immutable setting,
// an existing tag is refused whatever digest it names, even the same one.
func (repo *repository) checkTagWrite(tag string) *putError {
	if _, exists := repo.tagIndex[tag]; exists && repo.tagImmutable(tag) {
		return &putError{kind: errTagImmutable, tag: tag}
	}
	return nil
}

// tagImmutableMessage is the text ECR puts in TAG_INVALID and
// ImageTagAlreadyExistsException.
func tagImmutableMessage(tag, repo string) string {
	return fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo)
}

var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

func validTag(tag string) bool { return tagPattern.MatchString(tag) }
