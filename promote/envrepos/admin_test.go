package envrepos

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ecr"
	"github.com/promote-dev/promote/promote/ledger"
)

const prodAccount = "222222222222"

// newWorld is an Admin over the ECR emulator: dev and test in its default
// account, prod in a second account (which grants the first only when a
// test says so), and qa outside ECR.
func newWorld(t *testing.T) (*ecremu.Server, *Admin, ledger.Ledger) {
	return newWorldVia(t, func(srv *ecremu.Server) string { return srv.URL })
}

// newWorldVia reaches the control plane at the endpoint via returns, the
// AWS way: the SDK's default chain and AWS_ENDPOINT_URL_ECR.
func newWorldVia(t *testing.T, via func(*ecremu.Server) string) (*ecremu.Server, *Admin, ledger.Ledger) {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1", Accounts: []string{ecremu.DefaultAccount, prodAccount}})
	srv.SetEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_ECR", via(srv))
	ctx := context.Background()
	client, err := ecr.New(ctx, ecr.Options{})
	require.NoError(t, err)
	devHost, prodHost := srv.RegistryHost(ecremu.DefaultAccount), srv.RegistryHost(prodAccount)
	home := ecr.Registry{Host: devHost, RegistryID: ecremu.DefaultAccount, Client: client}
	regs := map[string]ecr.Registry{"dev": home, "test": home,
		"prod": {Host: prodHost, RegistryID: prodAccount, Client: client}}
	env := func(name, from, repo string, tags config.TagPolicy) *config.Environment {
		return &config.Environment{Name: name, From: from, Repository: repo + "/{app}", Tags: tags}
	}
	cfg := &config.Config{Environments: []*config.Environment{
		env("dev", "", devHost+"/dev", config.Mutable),
		env("test", "dev", devHost+"/test", config.Immutable),
		env("qa", "dev", "registry.example.com/qa", config.Immutable),
		env("prod", "test", prodHost, config.Immutable),
	}}
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	require.NoError(t, err)
	t.Cleanup(func() { led.Close() })
	return srv, &Admin{Config: cfg, Registries: regs, Ledger: led}, led
}

// rowOf finds the report's row of app in env.
func rowOf(t *testing.T, r *Report, env, app string) Repo {
	for _, row := range r.Repositories {
		if row.Env == env && row.App == app {
			return row
		}
	}
	t.Fatalf("no row for %s in %s", app, env)
	return Repo{}
}

func messages(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Severity+": "+f.Message)
	}
	return out
}

func writes(srv *ecremu.Server) int {
	return srv.Count("CreateRepository") + srv.Count("PutImageTagMutability")
}

func TestCheckEnvsReportsFindingsAndWritesNothing(t *testing.T) {
	srv, adm, _ := newWorld(t)
	dev, prod := srv.Default(), srv.Registry(prodAccount)
	prod.GrantAccount(ecremu.DefaultAccount)
	require.NoError(t, dev.CreateRepository("dev/web", ecremu.RepositoryConfig{ScanOnPush: true}))
	require.NoError(t, dev.CreateRepository("test/web", ecremu.RepositoryConfig{Mutability: ecremu.MutableWithExclusion,
		Filters: []ecremu.ExclusionFilter{ecremu.Wildcard("v*")}, ScanOnPush: true}))
	require.NoError(t, dev.CreateRepository("test/api", ecremu.RepositoryConfig{Mutability: ecremu.Immutable}))
	require.NoError(t, prod.CreateRepository("web", ecremu.RepositoryConfig{Mutability: ecremu.ImmutableWithExclusion,
		Filters: []ecremu.ExclusionFilter{ecremu.Wildcard("sha256-*")}, ScanOnPush: true, Encryption: ecremu.EncryptionConfiguration{EncryptionType: "KMS"}}))

	rep, err := adm.Check(context.Background(), []string{"web", "api", "web"})
	require.NoError(t, err)
	assert.Equal(t, []string{"web", "api"}, rep.Apps)
	assert.Equal(t, "arguments", rep.AppsFrom)
	require.Len(t, rep.Repositories, 6, "dev, test and prod for two apps")
	require.Len(t, rep.Skipped, 1)
	assert.Equal(t, "qa", rep.Skipped[0].Env)
	assert.Contains(t, rep.Skipped[0].Reason, "registry.example.com is not an ECR host")

	assert.Empty(t, rowOf(t, rep, "dev", "web").Findings, "a mutable env's MUTABLE repository, scanned on push")
	web := rowOf(t, rep, "test", "web")
	assert.Equal(t, ecr.MutableWithExclusion, web.TagMutability)
	assert.Equal(t, []string{"v*"}, web.ExclusionFilters)
	require.Len(t, web.Findings, 1)
	assert.Equal(t, SeverityError, web.Findings[0].Severity)
	assert.Contains(t, web.Findings[0].Message, "immutable but the repository is MUTABLE_WITH_EXCLUSION")

	api := rowOf(t, rep, "test", "api")
	assert.Equal(t, []string{
		"warning: no exclusion filter covers sha256-*: ECR refuses to rewrite a legacy cosign .sig/.att tag, so a later signature or attestation " +
			"of a promoted image cannot follow it (OCI 1.1 referrers still work); promote envs apply --fix-mutability adds the filter",
		"warning: scan on push is off: images are not scanned as they arrive unless the registry's scanning configuration covers this repository",
	}, messages(api.Findings))

	missing := rowOf(t, rep, "dev", "api")
	assert.False(t, missing.Exists)
	assert.Equal(t, []string{"error: the repository does not exist; promote envs apply creates it"}, messages(missing.Findings))

	pw := rowOf(t, rep, "prod", "web")
	assert.Equal(t, prodAccount, pw.RegistryID)
	assert.Equal(t, "web", pw.Name)
	assert.Equal(t, "KMS arn:aws:kms:eu-central-1:222222222222:alias/aws/ecr", pw.Encryption)
	assert.Empty(t, pw.Findings)
	assert.False(t, rowOf(t, rep, "prod", "api").Exists)

	assert.Equal(t, 3, rep.Errors, "test/web mutable, dev/api and prod api missing")
	assert.Equal(t, 2, rep.Warnings)
	assert.Zero(t, writes(srv), "check writes nothing")
}

func TestApplyEnvsCreatesThenFixesOnlyWhenAsked(t *testing.T) {
	srv, adm, _ := newWorld(t)
	ctx := context.Background()
	dev, prod := srv.Default(), srv.Registry(prodAccount)
	prod.GrantAccount(ecremu.DefaultAccount)
	require.NoError(t, dev.CreateRepository("test/web", ecremu.RepositoryConfig{ScanOnPush: true}))
	require.NoError(t, prod.CreateRepository("web", ecremu.RepositoryConfig{Mutability: ecremu.Immutable, ScanOnPush: true}))

	rep, err := adm.Apply(ctx, []string{"web"}, ApplyOptions{})
	require.NoError(t, err)
	d := rowOf(t, rep, "dev", "web")
	assert.Equal(t, ActionCreated, d.Action)
	assert.Equal(t, ecr.Mutable, d.TagMutability)
	assert.True(t, d.ScanOnPush)
	tw := rowOf(t, rep, "test", "web")
	assert.Equal(t, ActionUnchanged, tw.Action, "an existing MUTABLE repository is left alone unless asked")
	assert.Equal(t, SeverityError, tw.Findings[0].Severity, "and is still an error")
	assert.Equal(t, ActionUnchanged, rowOf(t, rep, "prod", "web").Action)
	assert.Equal(t, 1, rep.Errors)
	assert.Equal(t, 1, rep.Warnings, "prod's IMMUTABLE repository lacks the attachment filter")
	assert.Equal(t, 1, writes(srv))

	rep, err = adm.Apply(ctx, []string{"web", "api"}, ApplyOptions{FixMutability: true, ExclusionFilters: []string{"current"}})
	require.NoError(t, err)
	tw = rowOf(t, rep, "test", "web")
	assert.Equal(t, ActionChanged, tw.Action)
	assert.Equal(t, ecr.ImmutableWithExclusion, tw.TagMutability)
	assert.Equal(t, []string{"sha256-*", "current"}, tw.ExclusionFilters)
	pw := rowOf(t, rep, "prod", "web")
	assert.Equal(t, ActionChanged, pw.Action, "an IMMUTABLE repository gets the missing filters")
	assert.Equal(t, []string{"sha256-*", "current"}, pw.ExclusionFilters)
	ta := rowOf(t, rep, "test", "api")
	assert.Equal(t, ActionCreated, ta.Action)
	assert.Equal(t, ecr.ImmutableWithExclusion, ta.TagMutability)
	assert.True(t, ta.ScanOnPush)
	assert.Equal(t, ActionUnchanged, rowOf(t, rep, "dev", "web").Action)
	assert.Zero(t, rep.Errors+rep.Warnings, "%+v", rep.Repositories)

	info, err := adm.Registries["prod"].Client.DescribeRepository(ctx, prodAccount, "web")
	require.NoError(t, err)
	assert.Equal(t, []string{"sha256-*", "current"}, info.ExclusionFilters, "what the report says is what ECR holds")

	before := writes(srv)
	rep, err = adm.Apply(ctx, []string{"web", "api"}, ApplyOptions{FixMutability: true, ExclusionFilters: []string{"current"}})
	require.NoError(t, err)
	for _, r := range rep.Repositories {
		assert.Equal(t, ActionUnchanged, r.Action, "%s %s", r.Env, r.App)
	}
	assert.Equal(t, before, writes(srv), "a second apply writes nothing")

	rep, err = adm.Apply(ctx, []string{"plain"}, ApplyOptions{NoExcludeAttachments: true})
	require.NoError(t, err)
	assert.Equal(t, ecr.Immutable, rowOf(t, rep, "test", "plain").TagMutability)
	assert.Equal(t, 2, rep.Warnings, "test and prod: legacy attachment tags cannot be rewritten")
}

func TestEnvsAppsFromTheLedgerAndBadInput(t *testing.T) {
	srv, adm, led := newWorld(t)
	ctx := context.Background()
	// prod's account has not granted the caller: that row fails, the others are read.
	rep, err := adm.Check(ctx, []string{"web"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 3 repositories could not be read or changed")
	assert.Contains(t, rowOf(t, rep, "prod", "web").Error, "AccessDenied")
	assert.Len(t, rowOf(t, rep, "test", "web").Findings, 1, "missing")
	srv.Registry(prodAccount).GrantAccount(ecremu.DefaultAccount)

	rep, err = adm.Check(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "ledger", rep.AppsFrom)
	assert.Empty(t, rep.Apps)
	assert.Empty(t, rep.Repositories)

	for _, app := range []string{"web", "api", "web"} {
		head, err := led.Head(ctx, app, "test")
		require.NoError(t, err)
		require.NoError(t, led.Append(ctx, &ledger.Record{Kind: ledger.KindPromotion, App: app, Env: "test", Digest: fmt.Sprintf("sha256:%064d", 1)}, head))
	}
	rep, err = adm.Check(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"api", "web"}, rep.Apps)

	_, err = adm.Check(ctx, []string{"Web:1.0"})
	assert.ErrorIs(t, err, errs.ErrUsage)
	_, err = adm.Apply(ctx, []string{"web"}, ApplyOptions{ExclusionFilters: []string{"a/b"}})
	assert.ErrorIs(t, err, errs.ErrUsage)
	_, err = adm.Apply(ctx, []string{"web"}, ApplyOptions{ExclusionFilters: []string{"a", "b", "c", "d", "e"}})
	assert.ErrorContains(t, err, "6 exclusion filters: ECR allows at most 5")
	assert.Zero(t, writes(srv))

}

func TestApplyEnvsAcceptsARepositoryCreatedMeanwhile(t *testing.T) {
	var once sync.Once
	srv, adm, _ := newWorldVia(t, func(srv *ecremu.Server) string {
		target, err := url.Parse(srv.URL)
		require.NoError(t, err)
		fwd := httputil.NewSingleHostReverseProxy(target)
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".CreateRepository") {
				once.Do(func() { // another apply wins the race, leaving test/web MUTABLE
					require.NoError(t, srv.Default().CreateRepository("test/web", ecremu.RepositoryConfig{ScanOnPush: true}))
				})
			}
			fwd.ServeHTTP(w, r)
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	})
	srv.Registry(prodAccount).GrantAccount(ecremu.DefaultAccount)
	require.NoError(t, srv.Default().CreateRepository("dev/web", ecremu.RepositoryConfig{ScanOnPush: true}))

	rep, err := adm.Apply(context.Background(), []string{"web"}, ApplyOptions{FixMutability: true})
	require.NoError(t, err)
	tw := rowOf(t, rep, "test", "web")
	assert.Equal(t, ActionChanged, tw.Action, "the repository that appeared is judged and fixed, not reported as an error")
	assert.Equal(t, ecr.ImmutableWithExclusion, tw.TagMutability)
	assert.Equal(t, ActionCreated, rowOf(t, rep, "prod", "web").Action)
	assert.Zero(t, rep.Errors)
}
