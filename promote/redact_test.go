package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// leakyWorld promotes web:1.0 from dev on one Leaky registry into test on
// another, through an engine that logs at debug level into a buffer.
type leakyWorld struct {
	src, dst *regtest.Leaky
	cfg      *config.Config
	ledger   string
	logs     bytes.Buffer
}

func newLeakyWorld(t *testing.T) *leakyWorld {
	w := &leakyWorld{src: regtest.NewLeaky(t), dst: regtest.NewLeaky(t), ledger: filepath.Join(t.TempDir(), "ledger.db")}
	w.cfg = devTestConfig(t, w.ledger, w.src.Host, w.dst.Host)
	regtest.Push(t, w.src.Host+"/dev/web:1.0", regtest.Image(t, 2, regtest.Labels("1.0"), "1000"))
	return w
}

func (w *leakyWorld) promote(t *testing.T, ctx context.Context) (*Result, error) {
	led, err := ledger.Open(ctx, w.ledger)
	require.NoError(t, err)
	defer led.Close()
	reg, err := registry.New(registry.Options{Insecure: []string{"127.0.0.1"},
		Retry: registry.Retry{Attempts: 3, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, RestartWait: time.Millisecond}})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(w.cfg, reg, led, WithActor(ledger.Actor{Identity: "test"}, nil), WithLogger(log))
	require.NoError(t, err)
	return e.Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
}

func (w *leakyWorld) records(t *testing.T) string {
	led, err := ledger.Open(context.Background(), w.ledger)
	require.NoError(t, err)
	defer led.Close()
	recs, err := led.Records(context.Background(), ledger.Query{})
	require.NoError(t, err)
	b, err := json.Marshal(recs)
	require.NoError(t, err)
	return string(b)
}

// The engine's errors, its debug logs, its result and the ledger carry no
// query string of any URL when a request to a secret-bearing URL fails,
// and the errors still wrap what callers branch on: a missing source is
// errs.ErrNotFound, a cancelled promotion context.Canceled.
func TestEngineErrorsCarryNoSecretURLs(t *testing.T) {
	type leakCase struct {
		dst   bool // the fault is on the target registry
		leak  regtest.Leak
		fault faults.Fault
		check func(t *testing.T, err error)
	}
	reset := faults.Fault{Kind: faults.ResetBefore}
	cases := []leakCase{
		{false, regtest.LeakBlobGet, reset, nil},
		{false, regtest.LeakBlobGet, faults.Fault{Kind: faults.Truncate, After: 10}, nil},
		{false, regtest.LeakManifestGet, faults.Fault{Kind: faults.Status, Status: http.StatusNotFound}, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, errs.ErrNotFound)
		}},
		{false, regtest.LeakReferrers, reset, nil},
		{false, regtest.LeakToken, reset, nil},
		{true, regtest.LeakBlobHead, reset, nil},
		{true, regtest.LeakUploadPatch, faults.Fault{Kind: faults.ResetMidUpload, After: 10}, nil},
		{true, regtest.LeakUploadPut, reset, nil},
		{true, regtest.LeakManifestHead, reset, nil},
		{true, regtest.LeakManifestPut, reset, nil},
		{true, regtest.LeakUploadPatch, faults.Fault{Kind: faults.Stall}, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, context.Canceled)
		}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s", tc.leak, tc.fault), func(t *testing.T) {
			w := newLeakyWorld(t)
			reg := w.src
			if tc.dst {
				reg = w.dst
			}
			reg.Fail(tc.leak, tc.fault)
			defer reg.Fail("", faults.Fault{})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if tc.fault.Kind == faults.Stall {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			w.logs.Reset()
			res, err := w.promote(t, ctx)
			require.Error(t, err)
			require.Positive(t, reg.Injected(), "the fault was met: %v", err)
			resJSON, jerr := json.Marshal(res)
			require.NoError(t, jerr)
			for what, out := range map[string]string{"error": err.Error(), "logs": w.logs.String(), "result": string(resJSON), "ledger": w.records(t)} {
				assert.Empty(t, regtest.Leaked(out), "no secret and no query string in the %s", what)
			}
			if tc.check != nil {
				tc.check(t, err)
			}

			reg.Fail("", faults.Fault{})
			w.logs.Reset()
			res, err = w.promote(t, context.Background())
			require.NoError(t, err, "healed, the promotion completes")
			require.NotNil(t, res.Record)
			assert.Empty(t, regtest.Leaked(w.logs.String()+w.records(t)))
		})
	}
}
