package promote

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// world is a dev → test → prod pipeline on two in-process registries:
// dev and test share registry A (mounts), prod lives on registry B.
type world struct {
	t      testing.TB
	a, b   *regtest.Registry
	cfg    *config.Config
	ledger string
}

func newWorld(t testing.TB, opts ...regtest.Option) *world {
	t.Helper()
	w := &world{t: t, a: regtest.New(t, opts...), b: regtest.New(t, opts...)}
	w.ledger = filepath.Join(t.TempDir(), "ledger.db")
	yaml := devTestYAML(w.ledger, w.a.Host, w.a.Host) + fmt.Sprintf(`  - name: prod
    from: test
    repository: %s/prod/{app}
    tags: immutable
    gates:
      - labels: {}
`, w.b.Host)
	cfg, err := config.Parse("environments.yaml", []byte(yaml))
	require.NoError(t, err)
	w.cfg = cfg
	return w
}

// engine opens its own ledger handle, as a separate promote process would.
func (w *world) engine() *Engine {
	w.t.Helper()
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	w.t.Cleanup(func() { led.Close() })
	reg, err := registry.New(registry.Options{Insecure: []string{"127.0.0.1"}})
	require.NoError(w.t, err)
	e, err := New(w.cfg, reg, led, WithActor(ledger.Actor{Identity: "test"}, nil))
	require.NoError(w.t, err)
	return e
}

func (w *world) dev(app string) string  { return w.a.Host + "/dev/" + app }
func (w *world) test(app string) string { return w.a.Host + "/test/" + app }
func (w *world) prod(app string) string { return w.b.Host + "/prod/" + app }

// push puts a good image (labels, non-root) into dev under tag.
func (w *world) push(app, tag, version string) v1.Hash {
	return regtest.Push(w.t, w.dev(app)+":"+tag, regtest.Image(w.t, 3, regtest.Labels(version), "1000"))
}

func (w *world) promote(e *Engine, env, ref string, tags ...string) (*Result, error) {
	r, err := ParseRef(ref)
	require.NoError(w.t, err)
	return e.Promote(context.Background(), Request{Env: env, Ref: r, Tags: tags})
}

// digestOf returns what ref names in a registry, or the zero hash.
func (w *world) digestOf(ref string) v1.Hash {
	w.t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(w.t, err)
	d, err := remote.Head(r)
	if err != nil {
		return v1.Hash{}
	}
	return d.Digest
}

func (w *world) tags(repo string) []string {
	w.t.Helper()
	r, err := name.NewRepository(repo)
	require.NoError(w.t, err)
	tags, err := remote.List(r)
	if err != nil {
		return nil
	}
	return tags
}

func (w *world) records(q ledger.Query) []ledger.Record {
	w.t.Helper()
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	defer led.Close()
	recs, err := led.Records(context.Background(), q)
	require.NoError(w.t, err)
	return recs
}

func (w *world) verify() ledger.Report {
	w.t.Helper()
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	defer led.Close()
	rep, err := led.Verify(context.Background())
	require.NoError(w.t, err)
	return rep
}

// devTestYAML is a dev (mutable, on src) → test (immutable, on dst, gated
// by labels and nonroot) pipeline with its ledger at ledgerPath.
func devTestYAML(ledgerPath, src, dst string) string {
	return fmt.Sprintf(`version: 1
ledger: %s
environments:
  - name: dev
    repository: %s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %s/test/{app}
    tags: immutable
    gates:
      - labels: {}
      - nonroot: {}
`, ledgerPath, src, dst)
}

// devTestConfig is devTestYAML, parsed.
func devTestConfig(t testing.TB, ledgerPath, src, dst string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("environments.yaml", []byte(devTestYAML(ledgerPath, src, dst)))
	require.NoError(t, err)
	return cfg
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
