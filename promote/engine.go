// Package promote is the engine: it resolves a source once, checks the
// promotion path in the ledger, runs the target environment's gates on the
// digest, plans and performs a byte-for-byte copy, writes tags, verifies and
// records. Commands in cmd/promote call one function of it each.
package promote

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/promote-dev/promote/promote/blobcache"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// Engine runs promotions, rollbacks and queries for one configuration.
type Engine struct {
	cfg     *config.Config
	reg     *registry.Client // names repositories and tags; its I/O goes through rd and wr
	rd      reader
	wr      writer
	led     ledger.Ledger
	log     *slog.Logger
	now     func() time.Time
	actor   ledger.Actor
	ci      *ledger.CI
	hooks   hooks
	retries int
	ecr     *ECR // nil when no environment is in ECR
	signers signers
	blobs   *blobcache.Cache // where blobs were last seen; nil: no memory
	// searchMin is the fewest missing bytes worth a ledger search for
	// mount sources (mountsource.go).
	searchMin int64
	progress  Progress  // nil: no one watches
	keys      KeySource // where the ledger's verifier key may come from besides the configuration
}

// hooks let tests stop a promotion at a named phase, as a crash would.
type hooks struct {
	afterCopy func() error
}

// Option configures an Engine.
type Option func(*Engine) error

// WithLogger sets the logger; the engine is silent without one.
func WithLogger(l *slog.Logger) Option {
	return func(e *Engine) error {
		if l == nil {
			return fmt.Errorf("promote: nil logger")
		}
		e.log = l
		return nil
	}
}

// WithBlobCache lets promotions mount blobs from repositories where earlier
// copies saw them (nil: none).
func WithBlobCache(c *blobcache.Cache) Option {
	return func(e *Engine) error { e.blobs = c; return nil }
}

// WithKeys says where the ledger key comes from besides the configuration,
// for the checks that need its verifier key.
func WithKeys(k KeySource) Option { return func(e *Engine) error { e.keys = k; return nil } }

// WithClock sets the clock used for record times.
func WithClock(now func() time.Time) Option {
	return func(e *Engine) error { e.now = now; return nil }
}

// WithActor overrides who the records say promoted (default: detected from
// the CI's variables, else user and host).
func WithActor(a ledger.Actor, ci *ledger.CI) Option {
	return func(e *Engine) error { e.actor, e.ci = a, ci; return nil }
}

// New builds an Engine. The caller owns reg and led and closes led.
func New(cfg *config.Config, reg *registry.Client, led ledger.Ledger, opts ...Option) (*Engine, error) {
	if cfg == nil || reg == nil || led == nil {
		return nil, fmt.Errorf("promote: config, registry client and ledger are all required")
	}
	e := &Engine{
		cfg: cfg, reg: reg, rd: reg, wr: reg, led: led, searchMin: ledgerSearchMinBytes,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:     time.Now,
		retries: 3,
	}
	e.actor, e.ci = DetectActor(envLookup)
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() *config.Config { return e.cfg }
