package promote

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// ecrWorld is dev → test on the ECR emulator, reached the AWS way: the
// SDK's default chain from the environment and AWS_ENDPOINT_URL_ECR.
type ecrWorld struct {
	srv  *ecremu.Server
	host string
	eng  *Engine
	aws  *ECR
}

func newECRWorld(t *testing.T) *ecrWorld {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1"})
	srv.SetEnv(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	require.NoError(t, srv.Default().CreateRepository("dev/web", ecremu.RepositoryConfig{}))
	require.NoError(t, srv.Default().CreateRepository("test/web", ecremu.RepositoryConfig{Mutability: "IMMUTABLE"}))
	w := newWorld(t, onHosts(host, host, ""), onECR(ecremu.DefaultAccount, "scan: {sources: [ecr], maxSeverity: high, ecrWait: 30s}"))
	return &ecrWorld{srv: srv, host: host, eng: w.engine(), aws: w.ecr}
}

// push writes a web image to dev with the registry credentials ECR hands out.
func (w *ecrWorld) push(t *testing.T, tag string, scan ecremu.Scan) string {
	return w.pushApp(t, "web", tag, scan)
}

func (w *ecrWorld) pushApp(t *testing.T, app, tag string, scan ecremu.Scan) string {
	img := regtest.Image(t, 2, regtest.Labels(tag), "1000")
	ref, err := name.ParseReference(w.host + "/dev/" + app + ":" + tag)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuthFromKeychain(w.aws.Keychain())))
	d, err := img.Digest()
	require.NoError(t, err)
	require.NoError(t, w.srv.Default().SetScan("dev/"+app, d.String(), scan))
	return d.String()
}

func TestScanGateReadsECRFindings(t *testing.T) {
	w := newECRWorld(t)
	ctx := context.Background()
	promote := func(tag string) (*Result, error) {
		return w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: tag}})
	}

	w.push(t, "1.0", ecremu.Scan{Sequence: []string{"IN_PROGRESS", "IN_PROGRESS"}, Status: "COMPLETE",
		Findings: []ecremu.Finding{{Name: "CVE-2026-0001", Severity: "CRITICAL"}}})
	res, err := promote("1.0")
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, res.Gates[0].Reason, "CVE-2026-0001 (CRITICAL)", "the poller waited out IN_PROGRESS and judged the findings")
	tags, err := w.srv.Default().Tags("test/web")
	require.NoError(t, err)
	assert.Empty(t, tags, "nothing written to test")

	w.push(t, "1.1", ecremu.Scan{Status: "FAILED", Description: "UnsupportedImageError"})
	res, err = promote("1.1")
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Contains(t, res.Gates[0].Reason, "is FAILED (UnsupportedImageError)")

	d := w.push(t, "1.2", ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0002", Severity: "MEDIUM"}}})
	res, err = promote("1.2")
	require.NoError(t, err)
	assert.Equal(t, "pass", res.Gates[0].Verdict, res.Gates[0].Reason)
	tags, err = w.srv.Default().Tags("test/web")
	require.NoError(t, err)
	assert.Equal(t, d, tags["1.2"], "the image landed in the IMMUTABLE ECR repository")
	assert.Equal(t, "arn:aws:iam::111111111111:user/ecremu", res.Record.Actor.AWS, "the record names the AWS caller identity")

	puts := w.srv.Count("PutImage")
	res, err = promote("1.2")
	require.NoError(t, err)
	assert.True(t, res.NothingToDo)
	assert.Equal(t, puts, w.srv.Count("PutImage"), "a re-run writes nothing (ECR would refuse the tag with TAG_INVALID)")
}

// A tag written by someone else between the plan and the write: ECR refuses
// the PUT with TAG_INVALID even for the same digest; promote looks again and
// reports success (same digest) or a clear conflict (another digest).
func TestTagRaceOnImmutableECR(t *testing.T) {
	w := newECRWorld(t)
	ctx := context.Background()
	clean := ecremu.Scan{Findings: []ecremu.Finding{{Name: "CVE-2026-0003", Severity: "LOW"}}}
	d := w.push(t, "2.0", clean)
	w.eng.hooks.afterCopy = func() error {
		ref, err := name.ParseReference(w.host + "/test/web:2.0")
		require.NoError(t, err)
		src, err := name.ParseReference(w.host + "/dev/web@" + d)
		require.NoError(t, err)
		desc, err := remote.Get(src, remote.WithAuthFromKeychain(w.aws.Keychain()))
		require.NoError(t, err)
		return remote.Put(ref, desc, remote.WithAuthFromKeychain(w.aws.Keychain()))
	}
	res, err := w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "2.0"}})
	require.NoError(t, err, "the same digest under the tag is success")
	require.NotNil(t, res.Record)
	assert.Equal(t, 1, tagInvalid(w.srv), "ECR refused the write of the existing tag")

	w.push(t, "2.1", clean)
	w.eng.hooks.afterCopy = func() error {
		other := regtest.Image(t, 1, regtest.Labels("x"), "1000")
		ref, err := name.ParseReference(w.host + "/test/web:2.1")
		require.NoError(t, err)
		return remote.Write(ref, other, remote.WithAuthFromKeychain(w.aws.Keychain()))
	}
	_, err = w.eng.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "2.1"}})
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "was written by someone else while this promotion ran")
	assert.Equal(t, 2, tagInvalid(w.srv))
	recs, err := w.eng.led.Records(ctx, ledger.Query{App: "web", Env: "test", Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, ledger.KindRejected, recs[0].Kind)
}

func tagInvalid(srv *ecremu.Server) int {
	n := 0
	for _, e := range srv.Events() {
		if e.Error == "TAG_INVALID" {
			n++
		}
	}
	return n
}

// promote to refuses an immutable environment whose ECR repository lets
// tags move, before anything is written.
func TestPromoteRefusesMutableECRRepositoryForImmutableEnvironment(t *testing.T) {
	w := newECRWorld(t)
	require.NoError(t, w.srv.Default().CreateRepository("dev/api", ecremu.RepositoryConfig{}))
	require.NoError(t, w.srv.Default().CreateRepository("test/api", ecremu.RepositoryConfig{Mutability: "MUTABLE"}))
	w.pushApp(t, "api", "1.0", ecremu.Scan{})
	_, err := w.eng.Promote(context.Background(), Request{Env: "test", Ref: Ref{App: "api", Tag: "1.0"}})
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "envs apply --fix-mutability")
	tags, err := w.srv.Default().Tags("test/api")
	require.NoError(t, err)
	assert.Empty(t, tags)
	_, err = w.eng.Promote(context.Background(), Request{Env: "test", Ref: Ref{App: "nope", Tag: "1.0"}})
	assert.ErrorIs(t, err, errs.ErrNotFound, "an app with no repositories is not found")
}
