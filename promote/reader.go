package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// Reader answers from a configuration and its ledger alone: it holds no
// registry or ECR client, so what it answers needs no network beyond the
// ledger's. The read-only commands (current, history, show, ledger verify
// and check) use it.
type Reader struct {
	cfg  *config.Config
	led  ledger.Ledger
	keys KeySource // where the verifier key may come from besides ledger.public
	// clock is the engine's clock for a Reader the engine made; nil: the
	// wall clock.
	clock func() time.Time
}

// now is the time by the Reader's clock.
func (r *Reader) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
}

// OpenReader loads the configuration at configPath and opens its ledger
// read-only (ledger.OpenReadOnly), and nothing else: it rejects the
// configuration as Open does, but builds no client, and creates, migrates
// and locks nothing. A ledger file that does not exist yet reads as empty.
// Close the Reader when done.
func OpenReader(ctx context.Context, configPath string, keys KeySource) (*Reader, error) {
	cfg, led, err := openLedger(ctx, configPath, true, keys)
	if err != nil {
		return nil, err
	}
	if _, err := ecrTargets(cfg); err != nil {
		led.Close()
		return nil, err
	}
	return &Reader{cfg: cfg, led: led, keys: keys}, nil
}

// authentic checks rec against the ledger's log (ledger.Authentic) when
// the ledger's verifier key is known: decisions, and current, act only on
// records the key holder wrote.
func (r *Reader) authentic(ctx context.Context, rec ledger.Record) error {
	vkey, err := verifierKey(r.cfg, r.keys)
	if err != nil {
		return err
	}
	if err := ledger.Authentic(ctx, r.led, rec, vkey); err != nil {
		return fmt.Errorf("reading ledger: %w", err)
	}
	return nil
}

// Close closes the ledger.
func (r *Reader) Close() error { return r.led.Close() }

// reader answers the engine's queries from its configuration and ledger;
// the engine's caller owns the ledger, so it is never closed.
func (e *Engine) reader() *Reader { return &Reader{cfg: e.cfg, led: e.led, keys: e.keys, clock: e.now} }

// currentUntil returns the record that set what env held for app before
// until (zero: now), or nil.
func (r *Reader) currentUntil(ctx context.Context, app, env string, until time.Time) (*ledger.Record, error) {
	// Read from the chain's head down to its latest promotion or rollback,
	// every record checked, rather than filter on kind: a current record
	// whose kind was edited to "rejected" (index and body alike) would
	// otherwise drop out of the filter unseen, and the one before it would
	// silently become current. Usually the head is that record: one read.
	for off, n := 0, 1; ; off, n = off+n, min(n*4, 64) {
		recs, err := r.led.Records(ctx, ledger.Query{App: app, Env: env, Until: until, Limit: n, Offset: off})
		if err != nil {
			return nil, fmt.Errorf("reading ledger: %w", err)
		}
		for i := range recs {
			// A record rewritten in place with fresh hashes checks out on
			// its own; with a key, it must also be what its leaf logs.
			if err := r.authentic(ctx, recs[i]); err != nil {
				return nil, err
			}
			if k := recs[i].Kind; k == ledger.KindPromotion || k == ledger.KindRollback {
				return &recs[i], nil
			}
		}
		if len(recs) < n {
			return nil, nil
		}
	}
}
