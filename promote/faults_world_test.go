package promote

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/promote/ledger"
	reg "github.com/promote-dev/promote/promote/registry"
)

// faultySite is an in-process registry behind the HTTP fault injector and
// a toxiproxy TCP proxy. Clients under test use Proxy; checks use Direct.
type faultySite struct {
	Direct, Proxy string
	inj           *faults.Injector
	proxy         *toxiproxy.Proxy
	mu            sync.Mutex
	gen           int // heals so far: a "gone" timer of an earlier run does nothing
}

var toxiServer = func() *toxiproxy.ApiServer {
	zerolog.SetGlobalLevel(zerolog.Disabled) // toxics log through zerolog's global logger
	return toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
}()

func newFaultySite(t *testing.T, name string) *faultySite {
	inj := faults.New(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	srv := httptest.NewServer(inj)
	t.Cleanup(srv.Close)
	s := &faultySite{Direct: strings.TrimPrefix(srv.URL, "http://"), inj: inj}
	s.proxy = toxiproxy.NewProxy(toxiServer, name, "127.0.0.1:0", s.Direct)
	require.NoError(t, s.proxy.Start())
	t.Cleanup(s.proxy.Stop)
	s.Proxy = s.proxy.Listen
	return s
}

// toxic adds a toxiproxy toxic, e.g. {"type":"limit_data","stream":"downstream","attributes":{"bytes":1000}}.
func (s *faultySite) toxic(t testing.TB, spec string) {
	_, err := s.proxy.Toxics.AddToxicJson(strings.NewReader(spec))
	require.NoError(t, err, spec)
}

// goneAfter stops the proxy after d (the registry goes away mid-promotion),
// unless the site is healed first.
func (s *faultySite) goneAfter(d time.Duration) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.gen == gen {
			s.proxy.Stop()
		}
	})
}

// heal removes every fault and brings a stopped proxy back.
func (s *faultySite) heal(t testing.TB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.inj.Set(nil)
	s.proxy.Toxics.ResetToxics(context.Background())
	if err := s.proxy.Start(); err != nil && !strings.Contains(err.Error(), "already") {
		require.NoError(t, err)
	}
}

// flakyLedger fails the next Append when armed: the ledger write that
// fails after the tags are written.
type flakyLedger struct {
	ledger.Ledger
	armed atomic.Bool
}

var errLedgerDown = errors.New("injected: ledger write failed")

func (l *flakyLedger) Append(ctx context.Context, rec *ledger.Record, expected ledger.Head) error {
	if l.armed.CompareAndSwap(true, false) {
		return errLedgerDown
	}
	return l.Ledger.Append(ctx, rec, expected)
}

// faultWorld is the world with dev on one faulty site and test on another
// (no prod), one engine with short retries on a ledger that fails when
// armed, and a client for checks.
type faultWorld struct {
	*world
	src, dst *faultySite
	led      *flakyLedger
	eng      *Engine
	checker  *reg.Client
}

func newFaultWorld(t *testing.T) *faultWorld {
	w := &faultWorld{src: newFaultySite(t, "src"), dst: newFaultySite(t, "dst")}
	fast := reg.Retry{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, Budget: 3 * time.Second, RestartWait: 5 * time.Millisecond}
	w.world = newWorld(t, onHosts(w.src.Proxy, w.dst.Proxy, ""), withRetry(fast))
	w.eng = w.engineOn(func(l ledger.Ledger) ledger.Ledger {
		w.led = &flakyLedger{Ledger: l}
		return w.led
	})
	w.checker = w.client()
	return w
}

// pushRandom puts app:1 into dev, directly (no faults): one image of two layers
// of size bytes each, or a two-platform index of such images.
func (w *faultWorld) pushRandom(app string, size int64, index bool) v1.Hash {
	img := func(arch string) v1.Image {
		i, err := random.Image(size, 2)
		require.NoError(w.t, err)
		cf, err := i.ConfigFile()
		require.NoError(w.t, err)
		cf = cf.DeepCopy()
		cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://example.com/" + app,
			"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567", "org.opencontainers.image.version": "1"}
		cf.Config.User, cf.OS, cf.Architecture = "1000", "linux", arch
		i, err = mutate.ConfigFile(i, cf)
		require.NoError(w.t, err)
		return i
	}
	ref, err := name.ParseReference(w.src.Direct+"/dev/"+app+":1", name.Insecure)
	require.NoError(w.t, err)
	if index {
		var adds []mutate.IndexAddendum
		for _, arch := range []string{"amd64", "arm64"} {
			adds = append(adds, mutate.IndexAddendum{Add: img(arch), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		require.NoError(w.t, remote.WriteIndex(ref, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)))
	} else {
		require.NoError(w.t, remote.Write(ref, img("amd64")))
	}
	d, err := remote.Head(ref)
	require.NoError(w.t, err)
	return d.Digest
}
