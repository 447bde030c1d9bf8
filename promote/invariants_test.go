package promote

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// The engine's invariants, checked on its registry I/O directly: a fake
// registry behind the reader and writer logs every write, and the ledger's
// appends go into the same log.

const (
	fakeDev  = "src.example/dev/app"
	fakeTest = "dst.example/test/app"
	fakeProd = "dst.example/prod/app"
)

// withFakeRegistry puts every registry of the world in one fakeRegistry,
// w.fake, behind its engines' reader and writer: dev on src.example, test
// and prod on dst.example. Its write log logs the ledger's appends too.
func withFakeRegistry() worldOption {
	return func(w *world) {
		w.fake = newFakeRegistry(w.t)
		onHosts("src.example", "dst.example", "dst.example")(w)
	}
}

// sbomOf is a non-runnable referrer of subject: an SPDX document.
func sbomOf(t *testing.T, subject v1.Descriptor) v1.Image {
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer([]byte(`{"spdxVersion":"SPDX-2.3"}`), "application/spdx+json")})
	require.NoError(t, err)
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.example.sbom.config.v1+json")
	return mutate.Subject(img, subject).(v1.Image)
}

func TestWritesComeInInvariantOrder(t *testing.T) {
	w := newWorld(t, withFakeRegistry())
	idx := regtest.Index(t, regtest.Labels("1.0.0"), "1000")
	root := w.fake.seed(fakeDev, idx)
	ref := w.fake.seed(fakeDev, sbomOf(t, root))
	w.fake.seedTag(fakeDev, "1.0.0", root.Digest)

	res, err := w.promote(w.engine(), "test", "app:1.0.0")
	require.NoError(t, err)
	require.NotNil(t, res.Record)

	im, err := idx.IndexManifest()
	require.NoError(t, err)
	log := w.fake.written()
	t.Logf("writes, in order:\n  %s", strings.Join(log, "\n  "))
	at := func(entry string) int {
		i := slices.Index(log, entry)
		require.GreaterOrEqual(t, i, 0, "%q not written; log: %v", entry, log)
		return i
	}
	lastBlob := -1
	for i, e := range log {
		if strings.HasPrefix(e, "blob ") {
			lastBlob = i
		}
	}
	require.Greater(t, lastBlob, 0)
	for _, c := range im.Manifests {
		assert.Less(t, lastBlob, at("manifest "+c.Digest.String()), "every blob before any manifest")
		assert.Less(t, at("manifest "+c.Digest.String()), at("manifest "+root.Digest.String()), "children before their index")
	}
	assert.Less(t, at("manifest "+root.Digest.String()), at("manifest "+ref.Digest.String()), "the index before its referrers")
	assert.Less(t, at("manifest "+ref.Digest.String()), at("tag 1.0.0"), "referrers before tags")
	assert.Less(t, at("tag 1.0.0"), at("record promotion"), "tags before the record")
	assert.Equal(t, "record promotion", log[len(log)-1], "the record is the last write")
	assert.Equal(t, []ledger.Kind{ledger.KindPromotion}, w.kinds())
}

// TestNothingWrittenOnRefusal: every refusal met before the lock leaves the
// target as it was and is recorded exactly once; a dry run records nothing.
func TestNothingWrittenOnRefusal(t *testing.T) {
	cases := []struct {
		name    string
		arrange func(t *testing.T, w *world) (env, ref string)
		is      error
		says    string
		kinds   []ledger.Kind
		dry     bool
	}{
		{name: "gates", is: errs.ErrGateRejected, says: "rejected by labels", kinds: []ledger.Kind{ledger.KindRejected},
			arrange: func(t *testing.T, w *world) (string, string) {
				d := w.fake.seed(fakeDev, regtest.Image(t, 2, nil, "")) // no labels, root
				return "test", "app@" + d.Digest.String()
			}},
		{name: "path", is: errs.ErrConflict, says: "was never promoted to test", kinds: []ledger.Kind{ledger.KindRejected},
			arrange: func(t *testing.T, w *world) (string, string) {
				d := w.fake.seed(fakeTest, regtest.Image(t, 2, regtest.Labels("1.0.0"), "1000"))
				w.fake.seedTag(fakeTest, "1.0.0", d.Digest) // in test's repository, never promoted there
				return "prod", "app:1.0.0"
			}},
		{name: "tree", is: errs.ErrGateRejected, says: "cannot be judged", kinds: []ledger.Kind{ledger.KindRejected},
			arrange: func(t *testing.T, w *world) (string, string) {
				odd := w.fake.seed(fakeDev, mutate.MediaType(regtest.Image(t, 1, regtest.Labels("1.0.0"), "1000"), "application/vnd.example.odd+json"))
				return "test", "app@" + odd.Digest.String()
			}},
		{name: "immutable tag names another digest", is: errs.ErrConflict, says: "already names", kinds: []ledger.Kind{ledger.KindRejected},
			arrange: func(t *testing.T, w *world) (string, string) {
				other := w.fake.seed(fakeTest, regtest.Image(t, 1, regtest.Labels("1.0.0"), "1000"))
				w.fake.seedTag(fakeTest, "1.0.0", other.Digest)
				d := w.fake.seed(fakeDev, regtest.Image(t, 2, regtest.Labels("1.0.0"), "1000"))
				w.fake.seedTag(fakeDev, "1.0.0", d.Digest)
				return "test", "app:1.0.0"
			}},
		{name: "dry run", dry: true,
			arrange: func(t *testing.T, w *world) (string, string) {
				d := w.fake.seed(fakeDev, regtest.Image(t, 2, regtest.Labels("1.0.0"), "1000"))
				w.fake.seedTag(fakeDev, "1.0.0", d.Digest)
				return "test", "app:1.0.0"
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, withFakeRegistry())
			env, ref := c.arrange(t, w)
			res, err := w.run(w.engine(), Request{Env: env, Ref: w.ref(ref), DryRun: c.dry})
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
				assert.Contains(t, err.Error(), c.says)
				require.NotNil(t, res)
			} else {
				require.NoError(t, err)
			}
			var records []string
			for _, e := range w.fake.written() {
				if !strings.HasPrefix(e, "record ") {
					t.Errorf("a refusal wrote %q", e)
				}
				records = append(records, e)
			}
			assert.Len(t, records, len(c.kinds), "recorded once")
			assert.Equal(t, c.kinds, w.kinds())
		})
	}
}

// TestTagRaceIsRefusedOnce: a tag written by someone else between the plan
// and the tag write (ECR refuses any existing tag of an immutable
// repository) is a refusal met under the lock: no tag written, one record.
func TestTagRaceIsRefusedOnce(t *testing.T) {
	w := newWorld(t, withFakeRegistry())
	d := w.fake.seed(fakeDev, regtest.Image(t, 2, regtest.Labels("1.0.0"), "1000"))
	w.fake.seedTag(fakeDev, "1.0.0", d.Digest)
	other := w.fake.seed(fakeTest, regtest.Image(t, 1, regtest.Labels("1.0.0"), "1000"))
	w.fake.beforePut = func(ref name.Reference) {
		if _, isTag := ref.(name.Tag); isTag {
			w.fake.seedTag(fakeTest, ref.Identifier(), other.Digest) // the other writer wins
		}
	}
	e := w.engine()
	e.wr = refuseExisting{e.wr, w.fake}

	_, err := w.promote(e, "test", "app:1.0.0")
	require.ErrorIs(t, err, errs.ErrConflict)
	assert.Contains(t, err.Error(), "written by someone else")
	for _, e := range w.fake.written() {
		assert.False(t, strings.HasPrefix(e, "tag "), "no tag written: %v", w.fake.written())
	}
	assert.Equal(t, []ledger.Kind{ledger.KindRejected}, w.kinds(), "recorded once")
}

// refuseExisting refuses to overwrite a tag, as an IMMUTABLE ECR repository does.
type refuseExisting struct {
	writer
	f *fakeRegistry
}

func (r refuseExisting) Put(ctx context.Context, ref name.Reference, m *registry.Manifest) error {
	if _, isTag := ref.(name.Tag); isTag {
		if r.f.beforePut != nil {
			r.f.beforePut(ref)
		}
		if d, err := r.f.Head(ctx, ref); err == nil && d != nil {
			return fmt.Errorf("TAG_INVALID: tag %s exists", ref)
		}
	}
	return r.writer.Put(ctx, ref, m)
}

// TestRollbackVerifiesThePointerItMoved: a registry that accepts the
// pointer tag's write but does not serve it fails the rollback, which
// records nothing; a registry that serves it gets a rollback record, the
// pointer moved before it.
func TestRollbackVerifiesThePointerItMoved(t *testing.T) {
	w := newWorld(t, withFakeRegistry())
	w.env("test").PointerTag = "current"
	e := w.engine()
	var ds []v1.Hash
	for _, v := range []string{"1.0", "2.0"} {
		d := w.fake.seed(fakeDev, regtest.Image(t, 1, regtest.Labels(v), "1000")).Digest
		w.fake.seedTag(fakeDev, v, d)
		_, err := w.promote(e, "test", "app:"+v)
		require.NoError(t, err)
		ds = append(ds, d)
	}
	real := e.wr
	e.wr = dropTag{real, "current"}
	_, err := e.Rollback(ctxTimeout(t), RollbackRequest{Env: "test", App: "app"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "verifying "+fakeTest+":current")
	assert.Equal(t, []ledger.Kind{ledger.KindPromotion, ledger.KindPromotion}, w.kinds(), "nothing recorded")

	e.wr = real
	before := len(w.fake.written())
	cur, err := e.Rollback(ctxTimeout(t), RollbackRequest{Env: "test", App: "app"})
	require.NoError(t, err)
	assert.Equal(t, ds[0].String(), cur.Digest)
	assert.Equal(t, []string{"tag current", "record rollback"}, w.fake.written()[before:])
}

// dropTag accepts writes of one tag and keeps none of them.
type dropTag struct {
	writer
	tag string
}

func (d dropTag) Put(ctx context.Context, ref name.Reference, m *registry.Manifest) error {
	if _, isTag := ref.(name.Tag); isTag && ref.Identifier() == d.tag {
		return nil
	}
	return d.writer.Put(ctx, ref, m)
}

// TestVerboseLogsEachPhase: --verbose shows each phase with its duration,
// by name, in the order the run took them.
func TestVerboseLogsEachPhase(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newWorld(t, withFakeRegistry(), withEngineOptions(WithLogger(log)))
	d := w.fake.seed(fakeDev, regtest.Image(t, 1, regtest.Labels("1.0.0"), "1000"))
	w.fake.seedTag(fakeDev, "1.0.0", d.Digest)
	_, err := w.promote(w.engine(), "test", "app:1.0.0")
	require.NoError(t, err)
	var phases []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, `msg="phase done"`) {
			require.Contains(t, line, "seconds=")
			i := strings.Index(line, "phase=")
			phases = append(phases, strings.Fields(line[i+len("phase="):])[0])
		}
	}
	assert.Equal(t, []string{"resolve", "freeze", "window", "soak", "inspect", "revoked", "approvals", "plan", "judge", "admit", "recheck", "replan", "copy", "tag", "verify", "record"}, phases)
}
