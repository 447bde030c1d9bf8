package promote

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

func TestPromoteDevTestProd(t *testing.T) {
	w := newWorld(t)
	d := w.push("web", "1.0.0", "1.0.0")
	sig := regtest.CosignSignature(t, w.dev("web"), d)
	e := w.engine()

	res, err := w.promote(e, "test", "web:1.0.0")
	require.NoError(t, err)
	assert.Equal(t, d.String(), res.Digest)
	assert.Equal(t, d, w.digestOf(w.test("web")+":1.0.0"), "target digest equals source digest")
	assert.Equal(t, sig, w.digestOf(w.test("web")+":"+d.Algorithm+"-"+d.Hex+".sig"), "signature arrived")
	require.NotNil(t, res.Record)
	assert.Equal(t, ledger.KindPromotion, res.Record.Kind)
	assert.Equal(t, []string{"1.0.0"}, res.Record.Tags)
	assert.Len(t, res.Gates, 2)
	// ggcr's in-process registry shares blobs between repositories, so they
	// are present; the distribution registry (integration tests) mounts them.
	assert.Greater(t, res.Copy.BlobsMounted+res.Copy.BlobsPresent, 0, "dev and test share a registry")
	assert.Zero(t, res.Copy.Bytes, "no blob bytes move within one registry")

	// APP alone: the source is test's current digest, with the tags it carries there.
	res, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	assert.Equal(t, d, w.digestOf(w.prod("web")+":1.0.0"))
	assert.Equal(t, "test", res.Record.From)
	assert.Greater(t, res.Copy.BlobsCopied, 0, "prod is another registry: blobs stream")
	assert.Equal(t, sig, w.digestOf(w.prod("web")+":"+d.Algorithm+"-"+d.Hex+".sig"))

	cur, err := e.Current(context.Background(), "prod", "web")
	require.NoError(t, err)
	assert.Equal(t, w.prod("web")+"@"+d.String(), cur.Reference)

	// The same command again: nothing to do, nothing recorded.
	before := len(w.records(ledger.Query{}))
	res, err = w.promote(e, "prod", "web")
	require.NoError(t, err)
	assert.True(t, res.NothingToDo)
	assert.Len(t, w.records(ledger.Query{}), before)
	assert.True(t, w.verify().OK())
}

func TestIndexWithSignatureAndReferrerArrivesWhole(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []regtest.Option
	}{{"referrers API", nil}, {"tag schema fallback", []regtest.Option{regtest.WithoutReferrersAPI()}}} {
		t.Run(mode.name, func(t *testing.T) {
			w := newWorld(t, withRegtest(mode.opts...))
			idx := regtest.Index(t, regtest.Labels("2.0.0"), "app")
			d := regtest.Push(t, w.dev("api")+":2.0.0", idx)
			sig := regtest.CosignSignature(t, w.dev("api"), d)
			raw, err := idx.RawManifest()
			require.NoError(t, err)
			mt, _ := idx.MediaType()
			sbom := regtest.Referrer(t, w.dev("api"), descriptorOf(d, mt, raw), "application/spdx+json")

			res, err := w.promote(w.engine(), "test", "api:2.0.0")
			require.NoError(t, err)
			assert.Equal(t, d, w.digestOf(w.test("api")+":2.0.0"))
			assert.Equal(t, sig, w.digestOf(w.test("api")+":"+d.Algorithm+"-"+d.Hex+".sig"))
			// Every child arrived by digest; only the index is tagged.
			im, err := idx.IndexManifest()
			require.NoError(t, err)
			for _, c := range im.Manifests {
				assert.Equal(t, c.Digest, w.digestOf(w.test("api")+"@"+c.Digest.String()))
			}
			for _, tag := range w.tags(w.test("api")) {
				assert.True(t, tag == "2.0.0" || tag[:7] == "sha256-", "unexpected tag %q", tag)
			}
			// The referrer is listed by the target, by API or tag schema.
			repo, _ := name.NewRepository(w.test("api"))
			refs, err := remote.Referrers(repo.Digest(d.String()))
			require.NoError(t, err)
			rm, err := refs.IndexManifest()
			require.NoError(t, err)
			var found bool
			for _, r := range rm.Manifests {
				found = found || r.Digest == sbom
			}
			assert.True(t, found, "the SBOM referrer arrived")
			assert.Len(t, res.Gates, 2)

			// A second hop reads what the first wrote: media types must have survived.
			_, err = w.promote(w.engine(), "prod", "api")
			require.NoError(t, err)
			pref, err := name.ParseReference(w.prod("api") + ":2.0.0")
			require.NoError(t, err)
			got, err := remote.Get(pref)
			require.NoError(t, err)
			assert.Equal(t, d, got.Digest)
			assert.Equal(t, mt, got.MediaType, "the index is stored as an index")
			for _, c := range im.Manifests {
				cref, err := name.ParseReference(w.prod("api") + "@" + c.Digest.String())
				require.NoError(t, err)
				cd, err := remote.Head(cref)
				require.NoError(t, err)
				assert.Equal(t, c.MediaType, cd.MediaType)
			}
		})
	}
}

func TestRejectedAttemptsWriteNothing(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	t.Run("gate says no", func(t *testing.T) {
		regtest.Push(t, w.dev("root")+":1.0", regtest.Image(t, 1, regtest.Labels("1.0"), ""))
		w.a.Requests()
		res, err := w.promote(e, "test", "root:1.0")
		require.ErrorIs(t, err, errs.ErrGateRejected)
		assert.Empty(t, regtest.Writes(w.a.Requests()), "nothing written to the target")
		require.NotNil(t, res.Record)
		recs := w.records(ledger.Query{App: "root", Env: "test"})
		require.Len(t, recs, 1)
		assert.Equal(t, ledger.KindRejected, recs[0].Kind)
		assert.Contains(t, recs[0].Rejection, "nonroot")
		assert.Equal(t, "fail", recs[0].Gates[1].Verdict)
		_, err = e.Current(context.Background(), "test", "root")
		assert.ErrorIs(t, err, errs.ErrNotFound, "a rejected attempt changes nothing current")
	})
	t.Run("path violation", func(t *testing.T) {
		d := w.push("skip", "1.0", "1.0")
		w.b.Requests()
		_, err := w.promote(e, "prod", "skip@"+d.String())
		var pe *PathError
		require.ErrorAs(t, err, &pe)
		require.ErrorIs(t, err, errs.ErrConflict)
		assert.Empty(t, regtest.Writes(w.b.Requests()))
		recs := w.records(ledger.Query{App: "skip", Env: "prod"})
		require.Len(t, recs, 1)
		assert.Equal(t, ledger.KindRejected, recs[0].Kind)
	})
	t.Run("immutable tag names another digest", func(t *testing.T) {
		d1 := w.push("imm", "1.0", "1.0")
		_, err := w.promote(e, "test", "imm:1.0")
		require.NoError(t, err)
		d2 := w.push("imm", "1.0", "1.0") // dev is mutable: 1.0 moves
		require.NotEqual(t, d1, d2)
		w.a.Requests()
		_, err = w.promote(e, "test", "imm:1.0")
		require.ErrorIs(t, err, errs.ErrConflict)
		assert.Contains(t, err.Error(), "already names "+d1.String())
		for _, q := range regtest.Writes(w.a.Requests()) {
			assert.NotContains(t, q, "/test/imm/", "nothing written to the target")
		}
		assert.Equal(t, d1, w.digestOf(w.test("imm")+":1.0"))
		cur, err := e.Current(context.Background(), "test", "imm")
		require.NoError(t, err)
		assert.Equal(t, d1.String(), cur.Digest)
	})
	t.Run("dry run", func(t *testing.T) {
		w.push("dry", "1.0", "1.0")
		w.a.Requests()
		res, err := w.dryRun(e, "test", "dry:1.0")
		require.NoError(t, err)
		assert.True(t, res.DryRun)
		assert.NotEmpty(t, res.Plan.Blobs)
		assert.Equal(t, ActWrite, res.Plan.Tags[0].Action)
		assert.Empty(t, regtest.Writes(w.a.Requests()))
		assert.Empty(t, w.records(ledger.Query{App: "dry"}))
	})
}
