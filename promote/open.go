package promote

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/promote-dev/promote/promote/blobcache"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// OpenOptions say where the configuration is and how registries are reached.
type OpenOptions struct {
	ConfigPath string
	Insecure   []string // registry HOST[:PORT]s reached over plain HTTP
	Jobs       int      // parallel transfers (registry.Options.Jobs)
	UserAgent  string
	Logger     *slog.Logger // nil: silent
	Progress   Progress     // nil: no progress shown
	// ReadOnly opens the ledger read-only (ledger.OpenReadOnly): for work
	// that records nothing (gates, a dry run, envs check), so that it
	// creates no ledger file and cannot write one.
	ReadOnly bool
	// Keys are where the ledger key comes from besides the configuration.
	Keys KeySource
}

// Opened is an Engine that Open built. It owns the ledger it opened: Close
// it when done.
type Opened struct {
	*Engine
	led ledger.Ledger
}

// Close closes the ledger.
func (o *Opened) Close() error { return o.led.Close() }

// Open loads the configuration at o.ConfigPath and builds an Engine on it:
// its ledger, ECR access for its ECR environments (no API call yet), a
// registry client and the blob cache (left out, with a debug log, when it
// cannot be opened: it is an optimisation). Commands that only read the
// ledger use OpenReader, which opens none of the clients.
func Open(ctx context.Context, o OpenOptions) (*Opened, error) {
	cfg, led, err := openLedger(ctx, o.ConfigPath, o.ReadOnly, o.Keys)
	if err != nil {
		return nil, err
	}
	eng, err := build(ctx, cfg, led, o)
	if err != nil {
		led.Close()
		return nil, err
	}
	return &Opened{Engine: eng, led: led}, nil
}

// clients builds the ECR access and the registry client cfg's
// environments are reached with, as o says.
func clients(ctx context.Context, cfg *config.Config, o OpenOptions) (*ECR, *registry.Client, error) {
	aws, err := NewECR(ctx, cfg, ECROptions{})
	if err != nil {
		return nil, nil, err
	}
	reg, err := registry.New(registry.Options{Insecure: o.Insecure, Jobs: o.Jobs, UserAgent: o.UserAgent, Keychain: aws.Keychain(), Logger: o.Logger})
	if err != nil {
		return nil, nil, err
	}
	return aws, reg, nil
}

// build makes the clients of cfg and the Engine that uses them with led.
func build(ctx context.Context, cfg *config.Config, led ledger.Ledger, o OpenOptions) (*Engine, error) {
	aws, reg, err := clients(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	opts := []Option{WithECR(aws), WithProgress(o.Progress), WithKeys(o.Keys)}
	if o.Logger != nil {
		opts = append(opts, WithLogger(o.Logger))
	}
	blobs, err := blobcache.Default()
	if err != nil {
		if o.Logger != nil {
			o.Logger.Debug("blob cache unavailable", "error", err)
		}
		blobs = nil
	}
	return New(cfg, reg, led, append(opts, WithBlobCache(blobs))...)
}

// openLedger loads the configuration at path and opens its ledger, for
// writing with its signer key (from keys or the configuration), or
// read-only, with no key.
func openLedger(ctx context.Context, path string, readOnly bool, keys KeySource) (*config.Config, ledger.Ledger, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	opts := ledger.Options{ReadOnly: readOnly}
	if !readOnly {
		if opts.Key, err = ledgerKey(cfg, keys); err != nil {
			return nil, nil, err
		}
	}
	led, err := ledger.OpenWith(ctx, cfg.Ledger, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("opening ledger %s: %w", cfg.Ledger, err)
	}
	return cfg, led, nil
}
