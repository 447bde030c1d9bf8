package promote

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// latencyTrace is a transport that adds one-way latency before each
// request and before each answer (a round trip costs twice it, as on a
// network) and records when each request started and finished, so a
// benchmark can count the round trips on a promotion's critical path:
// the longest chain of requests each of which began after the one before
// it had been answered.
type latencyTrace struct {
	next  http.RoundTripper
	delay time.Duration
	mu    sync.Mutex
	reqs  []tracedRequest
	zero  time.Time
}

type tracedRequest struct {
	start, end time.Duration
	what       string
}

func (l *latencyTrace) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Since(l.zero)
	time.Sleep(l.delay)
	resp, err := l.next.RoundTrip(req)
	time.Sleep(l.delay)
	what := req.Method + " " + req.URL.Host + req.URL.Path
	if q := req.URL.Query(); q.Has("mount") {
		what += "?mount"
	} else if q.Has("digest") {
		what += "?digest"
	}
	if resp != nil {
		what += fmt.Sprintf(" %d", resp.StatusCode)
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, tracedRequest{start: start, end: time.Since(l.zero), what: what})
	l.mu.Unlock()
	return resp, err
}

func (l *latencyTrace) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs, l.zero = nil, time.Now()
}

// chain is the longest chain of requests, each started after the one
// before it ended.
func (l *latencyTrace) chain() []tracedRequest {
	l.mu.Lock()
	reqs := slices.Clone(l.reqs)
	l.mu.Unlock()
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].end < reqs[j].end })
	depth, prev := make([]int, len(reqs)), make([]int, len(reqs))
	best := -1
	for i, r := range reqs {
		depth[i], prev[i] = 1, -1
		for j := range i {
			if reqs[j].end <= r.start && depth[j]+1 > depth[i] {
				depth[i], prev[i] = depth[j]+1, j
			}
		}
		if best < 0 || depth[i] > depth[best] {
			best = i
		}
	}
	var out []tracedRequest
	for i := best; i >= 0; i = prev[i] {
		out = append(out, reqs[i])
	}
	slices.Reverse(out)
	return out
}

func (l *latencyTrace) dump(tb testing.TB) {
	if os.Getenv("PROMOTE_TRACE_ROUNDTRIPS") == "" {
		return
	}
	l.mu.Lock()
	reqs := slices.Clone(l.reqs)
	l.mu.Unlock()
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].start < reqs[j].start })
	on := map[tracedRequest]bool{}
	for _, r := range l.chain() {
		on[r] = true
	}
	var b strings.Builder
	for _, r := range reqs {
		mark := " "
		if on[r] {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %6.1f %6.1f %s\n", mark, float64(r.start.Microseconds())/1000, float64((r.end-r.start).Microseconds())/1000, r.what)
	}
	tb.Logf("%d requests, %d on the critical path:\n%s", len(reqs), len(l.chain()), b.String())
}

// BenchmarkRoundTrips promotes a two-platform index, and a one-layer
// image, from one registry to another, gated by labels and nonroot, with 5 ms each way added to every request, and reports the round
// trips on the promotion's critical path and its requests. Set
// PROMOTE_TRACE_ROUNDTRIPS=1 to see each request, the chain marked.
func BenchmarkRoundTrips(b *testing.B) {
	tr := &latencyTrace{next: http.DefaultTransport.(*http.Transport).Clone(), delay: 5 * time.Millisecond}
	for _, c := range []struct {
		name string
		push func(b *testing.B, ref string)
	}{
		{"index", func(b *testing.B, ref string) { regtest.Push(b, ref, regtest.Index(b, regtest.Labels("1.0"), "1000")) }},
		{"image", func(b *testing.B, ref string) {
			regtest.Push(b, ref, regtest.Image(b, 1, regtest.Labels("1.0"), "1000"))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			src, dst := regtest.New(b), regtest.New(b)
			w := newWorld(b, onHosts(src.Host, dst.Host, ""), withTransport(func() http.RoundTripper { return tr }))
			var trips, reqs int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				app := fmt.Sprintf("app%d", i)
				c.push(b, w.dev(app)+":1.0")
				e := w.engine()
				tr.reset()
				b.StartTimer()
				_, err := w.promote(e, "test", app+":1.0")
				require.NoError(b, err)
				b.StopTimer()
				trips += len(tr.chain())
				tr.mu.Lock()
				reqs += len(tr.reqs)
				tr.mu.Unlock()
				if i == 0 {
					tr.dump(b)
				}
			}
			b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		})
	}
}
