package promote

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
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

// world is the one test world of the engine tests: a dev (mutable) → test
// (immutable, gated by labels and nonroot) → prod (immutable, gated by
// labels) pipeline, the registries it lives on, its ledger and the engines
// that promote in it. By default dev and test share the in-process registry
// a (mounts) and prod lives on b; options put it elsewhere (worldOption).
type world struct {
	t      testing.TB
	a, b   *regtest.Registry // the in-process registries, when the world is on them
	hosts  struct{ dev, test, prod string }
	gates  struct{ test, prod []string }
	aws    string // an aws block every environment carries, or ""
	cfg    *config.Config
	ledger string // a SQLite file, or s3://bucket/prefix

	regOpts    registry.Options         // what each engine's registry client is built with
	transport  func() http.RoundTripper // a fresh base transport per client, or nil
	engineOpts []Option                 // after WithActor
	ready      []func(w *world)         // run once the configuration is parsed

	fake *fakeRegistry // when set, the engines' registry I/O goes to it
	s3   *s3Store      // when the ledger is on S3
	ecr  *ECR          // when the environments are in ECR
}

// worldOption chooses a part of a world: its registries, its ledger, its
// engines' options. Options apply in order, before the configuration is
// parsed; a world with no registries chosen gets two in-process ones.
type worldOption func(w *world)

func newWorld(t testing.TB, opts ...worldOption) *world {
	t.Helper()
	w := &world{t: t, ledger: filepath.Join(t.TempDir(), "ledger.db"),
		regOpts: registry.Options{Insecure: []string{"127.0.0.1"}}}
	w.gates.test = []string{"labels: {}", "nonroot: {}"}
	w.gates.prod = []string{"labels: {}"}
	for _, o := range opts {
		o(w)
	}
	if w.hosts.dev == "" {
		withRegtest()(w)
	}
	cfg, err := config.Parse("environments.yaml", []byte(w.yaml()))
	require.NoError(t, err)
	w.cfg = cfg
	for _, f := range w.ready {
		f(w)
	}
	return w
}

// yaml is the world's environments.yaml; prod is left out when it has no host.
func (w *world) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nledger: %s\nenvironments:\n", w.ledger)
	env := func(name, from, host, tags string, gates []string) {
		fmt.Fprintf(&b, "  - name: %s\n", name)
		if from != "" {
			fmt.Fprintf(&b, "    from: %s\n", from)
		}
		fmt.Fprintf(&b, "    repository: %s/%s/{app}\n    tags: %s\n", host, name, tags)
		if w.aws != "" {
			fmt.Fprintf(&b, "    aws: %s\n", w.aws)
		}
		if len(gates) > 0 {
			b.WriteString("    gates:\n")
			for _, g := range gates {
				fmt.Fprintf(&b, "      - %s\n", g)
			}
		}
	}
	env("dev", "", w.hosts.dev, "mutable", nil)
	env("test", "dev", w.hosts.test, "immutable", w.gates.test)
	if w.hosts.prod != "" {
		env("prod", "test", w.hosts.prod, "immutable", w.gates.prod)
	}
	return b.String()
}

// env is the world's environment name, to change before engines use it.
func (w *world) env(name string) *config.Environment {
	w.t.Helper()
	e, err := w.cfg.Env(name)
	require.NoError(w.t, err)
	return e
}

// client is a new registry client, as the CLI builds it.
func (w *world) client() *registry.Client {
	w.t.Helper()
	o := w.regOpts
	if w.transport != nil {
		o.Transport = w.transport()
	}
	reg, err := registry.New(o)
	require.NoError(w.t, err)
	return reg
}

// engine opens its own ledger handle and registry client, as a separate
// promote process would.
func (w *world) engine() *Engine { return w.engineOn(nil) }

// engineOn is engine with its ledger handle wrapped by wrap (nil: as opened).
func (w *world) engineOn(wrap func(ledger.Ledger) ledger.Ledger) *Engine {
	w.t.Helper()
	opened, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(w.t, err)
	w.t.Cleanup(func() { opened.Close() })
	var led ledger.Ledger = opened
	if w.fake != nil {
		led = loggingLedger{led, w.fake}
	}
	if wrap != nil {
		led = wrap(led)
	}
	opts := append([]Option{WithActor(ledger.Actor{Identity: "test"}, nil)}, w.engineOpts...)
	e, err := New(w.cfg, w.client(), led, opts...)
	require.NoError(w.t, err)
	if w.fake != nil {
		e.rd, e.wr = w.fake, w.fake
	}
	return e
}

func (w *world) dev(app string) string  { return w.hosts.dev + "/dev/" + app }
func (w *world) test(app string) string { return w.hosts.test + "/test/" + app }
func (w *world) prod(app string) string { return w.hosts.prod + "/prod/" + app }

// push puts a good image (labels, non-root) into dev under tag.
func (w *world) push(app, tag, version string) v1.Hash {
	return regtest.Push(w.t, w.dev(app)+":"+tag, regtest.Image(w.t, 3, regtest.Labels(version), "1000"))
}

// promote runs `promote to ENV REF --tag TAG...` with e, for a minute at most.
func (w *world) promote(e *Engine, env, ref string, tags ...string) (*Result, error) {
	return w.run(e, Request{Env: env, Ref: w.ref(ref), Tags: tags})
}

// dryRun is promote with --dry-run.
func (w *world) dryRun(e *Engine, env, ref string) (*Result, error) {
	return w.run(e, Request{Env: env, Ref: w.ref(ref), DryRun: true})
}

func (w *world) run(e *Engine, req Request) (*Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.Promote(ctx, req)
}

func (w *world) ref(s string) Ref {
	w.t.Helper()
	r, err := ParseRef(s)
	require.NoError(w.t, err)
	return r
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
	led, err := ledger.OpenReadOnly(context.Background(), w.ledger)
	require.NoError(w.t, err)
	defer led.Close()
	recs, err := led.Records(context.Background(), q)
	require.NoError(w.t, err)
	return recs
}

// kinds lists the kind of every record in the ledger.
func (w *world) kinds() []ledger.Kind {
	var out []ledger.Kind
	for _, r := range w.records(ledger.Query{}) {
		out = append(out, r.Kind)
	}
	return out
}

func (w *world) verify() ledger.Report {
	w.t.Helper()
	led, err := ledger.OpenReadOnly(context.Background(), w.ledger)
	require.NoError(w.t, err)
	defer led.Close()
	rep, err := led.Verify(context.Background())
	require.NoError(w.t, err)
	return rep
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
