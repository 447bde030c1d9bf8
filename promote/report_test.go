package promote

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
)

// baseImage is a base image of two layers built at created.
func baseImage(t *testing.T, created time.Time) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	require.NoError(t, err)
	img, err = mutate.CreatedAt(img, v1.Time{Time: created})
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// appOn builds an app image on base (its layers first), built at created,
// annotated with the base it names.
func appOn(t *testing.T, base v1.Image, baseRef string, version string, created time.Time) v1.Image {
	t.Helper()
	layer, err := random.Layer(256, types.OCILayer)
	require.NoError(t, err)
	img, err := mutate.AppendLayers(base, layer)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.Labels, cf.Config.User, cf.Created = regtest.Labels(version), "1000", v1.Time{Time: created}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	bd, err := base.Digest()
	require.NoError(t, err)
	return mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.base.name": baseRef, "org.opencontainers.image.base.digest": bd.String()}).(v1.Image)
}

// approveBases gives test a base gate approving the world's base
// repositories, as the report's trust in a base needs.
func approveBases(t *testing.T, w *world, e *Engine) {
	t.Helper()
	g, err := gates.NewBase(gates.BaseConfig{Approved: []string{w.hosts.dev + "/base/*"}})
	require.NoError(t, err)
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.Gates = append(env.Gates, config.Gate{Kind: "base", Gate: g})
}

// The report of an app built on a base: green while the base is current;
// stale (amber) with the days it is behind once the base's tag names a
// newer image, and named for a rebuild; old (red) past maxImageAge; and
// revoked (red) when a revocation covers what runs.
func TestReportAgesBasesStalenessAndRevocations(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	approveBases(t, w, e)
	now := time.Now().UTC()
	baseRef := w.hosts.dev + "/base/os:1"
	base := baseImage(t, now.Add(-10*24*time.Hour))
	regtest.Push(t, baseRef, base)
	d := regtest.Push(t, w.dev("web")+":1.0", appOn(t, base, baseRef, "1.0", now.Add(-2*24*time.Hour)))
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)

	rep, err := e.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	require.Len(t, rep.Apps, 1)
	ri := rep.Apps[0].Environments[0]
	assert.Equal(t, "test", ri.Env)
	assert.Equal(t, d.String(), ri.Digest)
	assert.Equal(t, StatusGreen, ri.Status, "%+v", ri)
	require.NotNil(t, ri.AgeDays)
	assert.InDelta(t, 2, *ri.AgeDays, 0.1)
	require.Len(t, ri.Bases, 1, "the base its annotations name, proven by its layers")
	assert.Equal(t, baseRef, ri.Bases[0].Base)
	assert.InDelta(t, 10, *ri.Bases[0].AgeDays, 0.1)
	assert.Empty(t, ri.Bases[0].Newer)
	assert.Empty(t, rep.Rebuild)

	regtest.Push(t, baseRef, baseImage(t, now.Add(-3*24*time.Hour))) // the base is patched: 7 days newer
	rep, err = e.Report(ctx, ReportRequest{Apps: []string{"web"}})
	require.NoError(t, err)
	ri = rep.Apps[0].Environments[0]
	assert.Equal(t, StatusAmber, ri.Status)
	require.Len(t, ri.Findings, 1)
	assert.Equal(t, FindingStale, ri.Findings[0].Kind)
	assert.Contains(t, ri.Findings[0].Reason, "7 days newer")
	require.NotNil(t, ri.Bases[0].DaysBehind)
	assert.InDelta(t, 7, *ri.Bases[0].DaysBehind, 0.01)
	assert.Equal(t, []string{"web"}, rep.Rebuild)
	assert.Equal(t, 1, rep.Counts[FindingStale])

	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.MaxImageAge = 24 * time.Hour
	_, err = e.Revoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: d.String()}, Reason: "CVE-2026-9"})
	require.NoError(t, err)
	rep, err = e.Report(ctx, ReportRequest{Apps: []string{"web"}, Env: "test"})
	require.NoError(t, err)
	ri = rep.Apps[0].Environments[0]
	assert.Equal(t, StatusRed, ri.Status)
	var kinds []string
	for _, f := range ri.Findings {
		kinds = append(kinds, f.Kind)
	}
	assert.ElementsMatch(t, []string{FindingRevoked, FindingOld, FindingStale}, kinds)
	assert.NotEmpty(t, ri.Revocation)
	for _, f := range ri.Findings {
		if f.Kind == FindingOld {
			assert.True(t, strings.Contains(f.Reason, "older than test's maxImageAge of 1 days"), f.Reason)
		}
	}
}

// An app the ledger does not know, or a bad name, is said so; an empty
// ledger has nothing to report.
func TestReportRefusesWhatItCannotReport(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	_, err := e.Report(context.Background(), ReportRequest{})
	assert.ErrorContains(t, err, "the ledger records no app yet")
	_, err = e.Freeze(context.Background(), ControlRequest{Env: "test", Reason: "x"})
	require.NoError(t, err)
	_, err = e.Report(context.Background(), ReportRequest{})
	assert.ErrorContains(t, err, "the ledger records no app yet", "a freeze is no app")
	_, err = e.Report(context.Background(), ReportRequest{Apps: []string{"web:1.0"}})
	assert.ErrorContains(t, err, "expected an app name")
	_, err = e.Report(context.Background(), ReportRequest{Env: "qa"})
	assert.Error(t, err)
}

// Findings that appear in ECR after promotion (enhanced scanning re-scans
// what the repository holds) make what runs newly vulnerable in the report.
func TestReportNewlyVulnerableFromECRFindings(t *testing.T) {
	w := newECRWorld(t)
	ctx := context.Background()
	d := w.push(t, "1.0", ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0002", Severity: "MEDIUM"}}})
	_, err := w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
	require.NoError(t, err)
	require.NoError(t, w.srv.Default().SetScan("test/web", d, ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0002", Severity: "MEDIUM"}}}))
	rep, err := w.eng.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	ri := rep.Apps[0].Environments[0]
	assert.Equal(t, StatusGreen, ri.Status, "%+v", ri)
	assert.Contains(t, ri.Vulnerability, "clean now")

	require.NoError(t, w.srv.Default().SetScan("test/web", d, ecremu.Scan{Findings: []ecremu.Finding{
		{Name: "CVE-2026-0002", Severity: "MEDIUM"}, {Name: "CVE-2026-7777", Severity: "CRITICAL"}}}))
	rep, err = w.eng.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	ri = rep.Apps[0].Environments[0]
	assert.Equal(t, StatusRed, ri.Status)
	require.Len(t, ri.Findings, 1)
	assert.Equal(t, FindingVulnerable, ri.Findings[0].Kind)
	assert.Contains(t, ri.Findings[0].Reason, "newly vulnerable: it passed test's scan gate when promoted")
	assert.Contains(t, ri.Findings[0].Reason, "CVE-2026-7777 (CRITICAL)")
	assert.Equal(t, []string{"web"}, rep.Rebuild)
}

// A base named by a version tag is stale once its version line has a
// newer tag (3.19.4 after 3.19.1), even while its own tag stays put.
func TestReportStaleByVersionLine(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	approveBases(t, w, e)
	now := time.Now().UTC()
	baseRef := w.hosts.dev + "/base/os:3.19.1"
	base := baseImage(t, now.Add(-20*24*time.Hour))
	regtest.Push(t, baseRef, base)
	regtest.Push(t, w.hosts.dev+"/base/os:3.20.9", baseImage(t, now)) // another line: not newer for 3.19
	regtest.Push(t, w.dev("web")+":1.0", appOn(t, base, baseRef, "1.0", now.Add(-time.Hour)))
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	rep, err := e.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	assert.Equal(t, StatusGreen, rep.Apps[0].Environments[0].Status, "3.20.9 is another line")

	regtest.Push(t, w.hosts.dev+"/base/os:3.19.4", baseImage(t, now.Add(-5*24*time.Hour)))
	rep, err = e.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	ri := rep.Apps[0].Environments[0]
	assert.Equal(t, StatusAmber, ri.Status)
	require.Len(t, ri.Bases, 1)
	assert.Equal(t, w.hosts.dev+"/base/os:3.19.4", ri.Bases[0].NewerTag)
	assert.InDelta(t, 15, *ri.Bases[0].DaysBehind, 0.01)
}

// A base an image names in a repository no base gate approves is not read
// (the image would send the report anywhere), and is said so (amber); a
// base tag moved to an older build is no newer base.
func TestReportTrustsOnlyApprovedBasesAndNewerBuilds(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	e := w.engine()
	now := time.Now().UTC()
	baseRef := w.hosts.dev + "/base/os:1"
	base := baseImage(t, now.Add(-10*24*time.Hour))
	regtest.Push(t, baseRef, base)
	regtest.Push(t, w.dev("web")+":1.0", appOn(t, base, baseRef, "1.0", now.Add(-time.Hour)))
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	rep, err := e.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	ri := rep.Apps[0].Environments[0]
	assert.Equal(t, StatusAmber, ri.Status)
	assert.Empty(t, ri.Bases)
	require.Len(t, ri.Unknown, 1)
	assert.Contains(t, ri.Unknown[0], "in no repository a base gate approves: not read")
	assert.Equal(t, 1, rep.Counts[CountUnjudged])

	approveBases(t, w, e)
	regtest.Push(t, baseRef, baseImage(t, now.Add(-20*24*time.Hour))) // the tag moves to an older build
	rep, err = e.Report(ctx, ReportRequest{})
	require.NoError(t, err)
	ri = rep.Apps[0].Environments[0]
	assert.Equal(t, StatusGreen, ri.Status, "%+v", ri)
	require.Len(t, ri.Bases, 1)
	assert.Nil(t, ri.Bases[0].DaysBehind, "an older build is no newer base")
}
