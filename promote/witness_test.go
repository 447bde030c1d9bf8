package promote

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/ecremu"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// witnesses are the keyed world's default witness repositories: test's
// (on registry a) and prod's (on b), both immutable.
func (kw *keyedWorld) witnesses() []string {
	return []string{kw.test(WitnessApp), kw.prod(WitnessApp)}
}

// promoteN pushes and promotes web:v into test for each v.
func (kw *keyedWorld) promoteN(e *Engine, versions ...string) {
	kw.t.Helper()
	for _, v := range versions {
		kw.push("web", v, v)
		_, err := kw.promote(e, "test", "web:"+v)
		require.NoError(kw.t, err)
	}
}

// audit audits the ledger as ledger verify does, against kept.
func audit(t *testing.T, e *Engine, kept ...ledger.Kept) ledger.Report {
	t.Helper()
	rep, err := e.Reader().AuditLedger(context.Background(), AuditRequest{}, kept...)
	require.NoError(t, err)
	return rep
}

// Publishing pushes checkpoint-<size> to every witness; the same size again
// writes nothing; a new size is a new tag. Witnessed reads every one back
// and the ledger's audit finds the log extends them all.
func TestPublishedCheckpointsAreReadBackAndAudited(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	ctx := ctxTimeout(t)
	repos, err := e.WitnessRepositories()
	require.NoError(t, err)
	assert.Equal(t, kw.witnesses(), repos, "the repository of each immutable environment, {app} = promote-ledger")

	kw.promoteN(e, "1.0")
	pub, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, keyOrigin, pub.Origin)
	assert.Equal(t, int64(1), pub.TreeSize)
	assert.Equal(t, "checkpoint-1", pub.Tag)
	require.Len(t, pub.Witnesses, 2)
	for i, w := range pub.Witnesses {
		assert.Equal(t, WitnessResult{Repository: repos[i], Action: WitnessPublished}, w)
	}

	kw.a.Requests()
	kw.b.Requests()
	again, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, pub.Digest, again.Digest, "the artifact is a function of the note")
	for _, w := range again.Witnesses {
		assert.Equal(t, WitnessUnchanged, w.Action)
	}
	assert.Empty(t, regtest.Writes(append(kw.a.Requests(), kw.b.Requests()...)), "the same checkpoint again writes nothing")

	kw.promoteN(e, "2.0", "3.0")
	third, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, "checkpoint-3", third.Tag)
	for _, w := range third.Witnesses {
		assert.Equal(t, WitnessPublished, w.Action)
		assert.Equal(t, int64(1), w.Extends, "proven to extend the checkpoint the witness held")
	}
	for _, r := range repos {
		assert.Equal(t, []string{"checkpoint-1", "checkpoint-3"}, kw.tags(r))
	}

	kept, err := e.Witnessed(ctx, nil)
	require.NoError(t, err)
	var sources []string
	for _, k := range kept {
		sources = append(sources, k.Source)
	}
	assert.Equal(t, []string{repos[0] + ":checkpoint-1", repos[0] + ":checkpoint-3", repos[1] + ":checkpoint-1", repos[1] + ":checkpoint-3"}, sources)
	rep := audit(t, e, kept...)
	require.True(t, rep.OK(), "%+v", rep.Problems)
	require.Len(t, rep.Log.Kept, 4)
	for _, k := range rep.Log.Kept {
		assert.True(t, k.OK, k.Source)
	}

	one, err := e.Witnessed(ctx, []string{repos[1]})
	require.NoError(t, err)
	assert.Equal(t, kept[2:], one, "the repositories given, and only those")
}

// The artifact is an OCI image manifest with the checkpoint artifactType,
// the empty config and one note layer holding the note as the ledger
// stores it, annotated with the origin and the tree size.
func TestCheckpointArtifactFormat(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	e := kw.open()
	kw.promoteN(e, "1.0", "2.0")
	pub, err := e.PublishCheckpoint(ctxTimeout(t))
	require.NoError(t, err)

	ref, err := name.ParseReference(kw.prod(WitnessApp) + ":checkpoint-2")
	require.NoError(t, err)
	desc, err := remote.Get(ref)
	require.NoError(t, err)
	assert.Equal(t, pub.Digest, desc.Digest.String())
	var m v1.Manifest
	require.NoError(t, json.Unmarshal(desc.Manifest, &m))
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", string(m.MediaType))
	assert.Equal(t, "application/vnd.promote.ledger.checkpoint.v1", m.ArtifactType)
	assert.Equal(t, "application/vnd.oci.empty.v1+json", string(m.Config.MediaType))
	assert.Equal(t, int64(2), m.Config.Size)
	assert.Equal(t, map[string]string{"dev.promote.ledger.origin": keyOrigin, "dev.promote.ledger.treeSize": "2"}, m.Annotations)
	require.Len(t, m.Layers, 1)
	assert.Equal(t, "application/vnd.promote.ledger.checkpoint.v1+note", string(m.Layers[0].MediaType))

	img, err := remote.Image(ref)
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	rc, err := layers[0].Compressed()
	require.NoError(t, err)
	defer rc.Close()
	note, err := io.ReadAll(rc)
	require.NoError(t, err)
	cp, err := e.Reader().Checkpoint(context.Background())
	require.NoError(t, err)
	assert.Equal(t, cp.Note, string(note), "the note byte for byte")
	assert.Equal(t, ledger.SignatureChecked, cp.Signature)
}

// A ledger without a key has no checkpoint to publish, and a pipeline with
// no immutable environment no default witness: both say what to set.
func TestPublishNeedsAKeyAndAWitness(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	_, err := e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrConfig)
	assert.Contains(t, err.Error(), "set ledger.key")

	kw := newKeyedWorld(t, nil)
	e = kw.open()
	_, err = e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, ledger.ErrNoCheckpoint, "nothing appended yet: nothing signed")
	assert.Contains(t, err.Error(), "nothing to publish")

	for _, env := range e.Config().Environments {
		env.Tags = "mutable"
	}
	_, err = e.PublishCheckpoint(ctxTimeout(t))
	require.ErrorIs(t, err, errs.ErrConfig)
	assert.Contains(t, err.Error(), "set ledger.witnesses")
	_, err = e.Witnessed(ctxTimeout(t), nil)
	assert.ErrorIs(t, err, errs.ErrConfig)
}

// ledger.witnesses replaces the default repositories.
func TestConfiguredWitnessesReplaceTheDefault(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	audit := kw.b.Host + "/audit/ledger"
	kw.writeConfig("witnesses: [" + audit + ", " + audit + "]")
	e := kw.open()
	repos, err := e.WitnessRepositories()
	require.NoError(t, err)
	assert.Equal(t, []string{audit}, repos, "listed once")
	kw.promoteN(e, "1.0")
	pub, err := e.PublishCheckpoint(ctxTimeout(t))
	require.NoError(t, err)
	require.Len(t, pub.Witnesses, 1)
	assert.Equal(t, []string{"checkpoint-1"}, kw.tags(audit))
	assert.Empty(t, kw.tags(kw.test(WitnessApp)))

	kw.writeConfig("witnesses: [not a repository]")
	_, err = kw.open().WitnessRepositories()
	require.ErrorIs(t, err, errs.ErrConfig)
	assert.Contains(t, err.Error(), "ledger.witnesses")
}

// An ECR environment's witness repository is checked as a promotion's
// target is: missing, publishing says which command creates it; created by
// envs apply, it takes the checkpoint, and only once.
func TestPublishToECRWitnesses(t *testing.T) {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1"})
	srv.SetEnv(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	require.NoError(t, srv.Default().CreateRepository("dev/web", ecremu.RepositoryConfig{}))
	require.NoError(t, srv.Default().CreateRepository("test/web", ecremu.RepositoryConfig{Mutability: "IMMUTABLE"}))
	kw := newKeyedWorld(t, nil, onHosts(host, host, ""), onECR(ecremu.DefaultAccount))
	e := kw.open()
	ctx := ctxTimeout(t)
	ref, err := name.ParseReference(kw.dev("web") + ":1.0")
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, regtest.Image(t, 1, regtest.Labels("1.0"), "1000"), remote.WithAuthFromKeychain(kw.ecr.Keychain())))
	_, err = kw.promote(e, "test", "web:1.0")
	require.NoError(t, err)

	_, err = e.PublishCheckpoint(ctx)
	require.ErrorIs(t, err, errs.ErrNotFound)
	assert.Contains(t, err.Error(), "promote envs apply promote-ledger")

	_, err = e.ApplyEnvs(ctx, []string{WitnessApp}, ApplyOptions{})
	require.NoError(t, err)
	pub, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	require.Len(t, pub.Witnesses, 1)
	assert.Equal(t, WitnessResult{Repository: kw.test(WitnessApp), Action: WitnessPublished}, pub.Witnesses[0])
	puts := srv.Count("PutImage")
	require.Positive(t, puts)
	again, err := e.PublishCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, WitnessUnchanged, again.Witnesses[0].Action)
	assert.Equal(t, puts, srv.Count("PutImage"), "an immutable repository is never asked to write the tag again")

	kept, err := e.Witnessed(ctx, nil)
	require.NoError(t, err)
	require.Len(t, kept, 1)
	assert.True(t, audit(t, e, kept...).OK())
}
