package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// leakyWorld is the world with dev on one Leaky registry and test on
// another (no prod), web:1.0 in dev, and engines that retry briefly and log
// at debug level into a buffer.
type leakyWorld struct {
	*world
	src, dst *regtest.Leaky
	logs     bytes.Buffer
}

func newLeakyWorld(t *testing.T) *leakyWorld {
	w := &leakyWorld{src: regtest.NewLeaky(t), dst: regtest.NewLeaky(t)}
	log := slog.New(slog.NewTextHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.world = newWorld(t, onHosts(w.src.Host, w.dst.Host, ""), withEngineOptions(WithLogger(log)),
		withRetry(registry.Retry{Attempts: 3, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, RestartWait: time.Millisecond}))
	regtest.Push(t, w.dev("web")+":1.0", regtest.Image(t, 2, regtest.Labels("1.0"), "1000"))
	return w
}

// promoteWeb promotes web:1.0 to test with a new engine, within ctx.
func (w *leakyWorld) promoteWeb(ctx context.Context) (*Result, error) {
	return w.engine().Promote(ctx, Request{Env: "test", Ref: Ref{App: "web", Tag: "1.0"}})
}

// recordsJSON is every record in the ledger, as JSON.
func (w *leakyWorld) recordsJSON() string {
	b, err := json.Marshal(w.records(ledger.Query{}))
	require.NoError(w.t, err)
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
			res, err := w.promoteWeb(ctx)
			require.Error(t, err)
			require.Positive(t, reg.Injected(), "the fault was met: %v", err)
			resJSON, jerr := json.Marshal(res)
			require.NoError(t, jerr)
			for what, out := range map[string]string{"error": err.Error(), "logs": w.logs.String(), "result": string(resJSON), "ledger": w.recordsJSON()} {
				assert.Empty(t, regtest.Leaked(out), "no secret and no query string in the %s", what)
			}
			if tc.check != nil {
				tc.check(t, err)
			}

			reg.Fail("", faults.Fault{})
			w.logs.Reset()
			res, err = w.promoteWeb(context.Background())
			require.NoError(t, err, "healed, the promotion completes")
			require.NotNil(t, res.Record)
			assert.Empty(t, regtest.Leaked(w.logs.String()+w.recordsJSON()))
		})
	}
}
