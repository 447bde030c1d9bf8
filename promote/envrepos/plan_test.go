package envrepos

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
)

func TestPlanRepo(t *testing.T) {
	imm := &config.Environment{Name: "prod", Tags: config.Immutable}
	mut := &config.Environment{Name: "dev", Tags: config.Mutable}
	repo := func(mode string, filters ...string) *ecr.RepoInfo {
		return &ecr.RepoInfo{TagMutability: mode, ExclusionFilters: filters}
	}
	fix := ApplyOptions{FixMutability: true}
	for _, tc := range []struct {
		name string
		env  *config.Environment
		info *ecr.RepoInfo
		opts ApplyOptions
		want repoPlan
	}{
		{"missing, immutable", imm, nil, ApplyOptions{}, repoPlan{ActionCreated, ecr.ImmutableWithExclusion, []string{"sha256-*"}}},
		{"missing, no attachments", imm, nil, ApplyOptions{NoExcludeAttachments: true}, repoPlan{ActionCreated, ecr.Immutable, nil}},
		{"missing, only a pointer tag", imm, nil, ApplyOptions{NoExcludeAttachments: true, ExclusionFilters: []string{"current"}},
			repoPlan{ActionCreated, ecr.ImmutableWithExclusion, []string{"current"}}},
		{"missing, mutable", mut, nil, ApplyOptions{ExclusionFilters: []string{"current"}}, repoPlan{ActionCreated, ecr.Mutable, nil}},
		{"MUTABLE left alone", imm, repo(ecr.Mutable), ApplyOptions{}, repoPlan{action: ActionUnchanged}},
		{"MUTABLE fixed", imm, repo(ecr.Mutable), fix, repoPlan{ActionChanged, ecr.ImmutableWithExclusion, []string{"sha256-*"}}},
		{"MUTABLE_WITH_EXCLUSION fixed, its filters dropped", imm, repo(ecr.MutableWithExclusion, "v*"), fix,
			repoPlan{ActionChanged, ecr.ImmutableWithExclusion, []string{"sha256-*"}}},
		{"IMMUTABLE gets the filter", imm, repo(ecr.Immutable), fix, repoPlan{ActionChanged, ecr.ImmutableWithExclusion, []string{"sha256-*"}}},
		{"partial cover completed, filters kept", imm, repo(ecr.ImmutableWithExclusion, "*.sig"), fix,
			repoPlan{ActionChanged, ecr.ImmutableWithExclusion, []string{"*.sig", "sha256-*"}}},
		{"a wider filter covers attachments", imm, repo(ecr.ImmutableWithExclusion, "sha256*"), fix, repoPlan{action: ActionUnchanged}},
		{"never removes a filter", imm, repo(ecr.ImmutableWithExclusion, "sha256-*"), ApplyOptions{FixMutability: true, NoExcludeAttachments: true},
			repoPlan{action: ActionUnchanged}},
		{"mutable env untouched", mut, repo(ecr.Immutable), fix, repoPlan{action: ActionUnchanged}},
	} {
		assert.Equal(t, tc.want, planRepo(tc.env, tc.info, tc.opts), tc.name)
	}
}

func TestRepoFindings(t *testing.T) {
	imm := &config.Environment{Name: "prod", Tags: config.Immutable}
	mut := &config.Environment{Name: "dev", Tags: config.Mutable}
	severities := func(fs []Finding) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Severity)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		env  *config.Environment
		info *ecr.RepoInfo
		want []string
	}{
		{"missing", imm, nil, []string{SeverityError}},
		{"good", imm, &ecr.RepoInfo{TagMutability: ecr.ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*"}, ScanOnPush: true}, []string{}},
		{"mutable in immutable env", imm, &ecr.RepoInfo{TagMutability: ecr.Mutable, ScanOnPush: true}, []string{SeverityError}},
		{"immutable, no cover, no scan", imm, &ecr.RepoInfo{TagMutability: ecr.Immutable}, []string{SeverityWarning, SeverityWarning}},
		{".att not covered", imm, &ecr.RepoInfo{TagMutability: ecr.ImmutableWithExclusion, ExclusionFilters: []string{"*.sig"}, ScanOnPush: true},
			[]string{SeverityWarning}},
		{"mutable env", mut, &ecr.RepoInfo{TagMutability: ecr.Mutable, ScanOnPush: true}, []string{}},
		{"immutable repo in mutable env", mut, &ecr.RepoInfo{TagMutability: ecr.Immutable, ScanOnPush: true}, []string{SeverityWarning}},
	} {
		assert.Equal(t, tc.want, severities(repoFindings(tc.env, tc.info)), tc.name)
	}
	assert.True(t, validFilter("sha256-*"))
	for _, bad := range []string{"", "a/b", "a b", "tag:x", string(make([]byte, 129))} {
		assert.False(t, validFilter(bad), "%q", bad)
	}
}

func TestPointerTagNeedsAnExclusion(t *testing.T) {
	env := &config.Environment{Name: "prod", Tags: config.Immutable, PointerTag: "current"}
	p := planRepo(env, nil, ApplyOptions{})
	assert.Equal(t, repoPlan{ActionCreated, ecr.ImmutableWithExclusion, []string{"sha256-*", "current"}}, p)
	p = planRepo(env, &ecr.RepoInfo{TagMutability: ecr.ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*"}}, ApplyOptions{FixMutability: true})
	assert.Equal(t, repoPlan{ActionChanged, ecr.ImmutableWithExclusion, []string{"sha256-*", "current"}}, p)

	fs := repoFindings(env, &ecr.RepoInfo{TagMutability: ecr.ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*"}, ScanOnPush: true})
	if assert.Len(t, fs, 1) {
		assert.Equal(t, SeverityError, fs[0].Severity)
		assert.Contains(t, fs[0].Message, `pointer tag "current" is not excluded from immutability`)
	}
	assert.Empty(t, repoFindings(env, &ecr.RepoInfo{TagMutability: ecr.ImmutableWithExclusion, ExclusionFilters: []string{"sha256-*", "current"}, ScanOnPush: true}))
}

func TestConfiguredExclusionsAreApplied(t *testing.T) {
	env := &config.Environment{Name: "prod", Tags: config.Immutable, AWS: &config.AWS{ImmutabilityExclusions: []string{"release-*", "sha256-*"}}}
	p := planRepo(env, nil, ApplyOptions{})
	assert.Equal(t, repoPlan{ActionCreated, ecr.ImmutableWithExclusion, []string{"sha256-*", "release-*"}}, p)
}
