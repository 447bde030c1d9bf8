package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// netCase is one network the cases run over: loopback (latency 0), or every
// tool-to-registry connection with latency each way.
type netCase struct {
	latency time.Duration
}

// Name is the short name (json, file names): "loopback" or "10ms".
func (n netCase) Name() string {
	if n.latency == 0 {
		return "loopback"
	}
	return n.latency.String()
}

// Title is the section title in results.md.
func (n netCase) Title() string {
	if n.latency == 0 {
		return "loopback"
	}
	return fmt.Sprintf("%s each way", strings.Replace(n.latency.String(), "ms", " ms", 1))
}

// parseLatencies reads -latency: a comma list of durations, 0 for loopback.
// toxiproxy's latency toxic counts whole milliseconds.
func parseLatencies(s string) ([]netCase, error) {
	var out []netCase
	seen := map[time.Duration]bool{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d := time.Duration(0)
		if f != "0" {
			var err error
			if d, err = time.ParseDuration(f); err != nil || d < 0 {
				return nil, fmt.Errorf("-latency: %q is not a duration such as 10ms (or 0 for loopback)", f)
			}
		}
		if d%time.Millisecond != 0 {
			return nil, fmt.Errorf("-latency: %s: toxiproxy's latency is whole milliseconds", d)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, netCase{latency: d})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-latency: no network case selected")
	}
	return out, nil
}

// toxiServer is the in-process toxiproxy, as promote/faults_world_test.go
// uses it: no API listener, proxies made with NewProxy.
var toxiServer = func() *toxiproxy.ApiServer {
	zerolog.SetGlobalLevel(zerolog.Disabled) // toxics log through zerolog's global logger
	return toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
}()

// front is what tools reach a registry through in one network case: the
// timing proxy, and for a latency L > 0 behind it a toxiproxy with a latency
// toxic of L on both streams, so a request and its response cost at least
// 2L, and the timing proxy's handshake delay of 2L for each new connection:
//
//	tool -> timing proxy -> toxiproxy (L up, L down) -> registry
type front struct {
	proxy *proxy
	toxi  *toxiproxy.Proxy
}

var toxiSeq atomic.Int64

func openFront(direct, registry string, n netCase, ids *atomic.Int64) (*front, error) {
	f := &front{}
	backend := direct
	if n.latency > 0 {
		ms := n.latency.Milliseconds()
		f.toxi = toxiproxy.NewProxy(toxiServer, fmt.Sprintf("%s-%d", registry, toxiSeq.Add(1)), "127.0.0.1:0", direct)
		if err := f.toxi.Start(); err != nil {
			return nil, fmt.Errorf("toxiproxy for %s: %w", direct, err)
		}
		for _, stream := range []string{"upstream", "downstream"} {
			spec := fmt.Sprintf(`{"name":"latency_%s","type":"latency","stream":%q,"attributes":{"latency":%d}}`, stream, stream, ms)
			if _, err := f.toxi.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
				f.toxi.Stop()
				return nil, fmt.Errorf("toxiproxy for %s: %s: %w", direct, spec, err)
			}
		}
		backend = f.toxi.Listen
	}
	var err error
	if f.proxy, err = newProxy(backend, registry, 2*n.latency, ids); err != nil {
		if f.toxi != nil {
			f.toxi.Stop()
		}
		return nil, err
	}
	return f, nil
}

// Host is the address tools are given.
func (f *front) Host() string { return f.proxy.Addr() }

// close stops accepting, ends toxiproxy's connections and waits for the
// timing proxy's to end.
func (f *front) close() {
	_ = f.proxy.ln.Close()
	if f.toxi != nil {
		f.toxi.Stop()
	}
	f.proxy.close()
}
