// Command compare measures `promote to` beside crane, skopeo and regctl on
// the same images and the same real registries, in one run (issues 6 and
// 17, "Benchmarks"). It starts CNCF distribution registries (Debian's
// docker-registry) behind counting and timing proxies, pushes a ~1 GiB
// two-platform image and a fleet of 200 small ones, and times each tool in
// each case:
//
//	cold           the big image into an empty target registry
//	warm-target    the big image into a repository that holds every layer
//	warm-registry  the big image into a registry that holds the layers in
//	               another repository, put there by the same tool
//	fleet          200 small images, as a fleet promotes: the peers one
//	               command per image, sequentially and -parallel at once;
//	               promote one batch command with --jobs each -parallel
//
// over each network of -latency: loopback (0), and for a latency L an
// in-process toxiproxy before every registry delaying both directions by L
// (a request and its response cost 2L, a new connection 2L more for the
// handshake, which the timing proxy adds; see proxy).
//
// The timing proxy splits each connection into HTTP requests and times
// them; a run's round trips are its critical path: the longest chain of
// requests, over both registries, each starting after the one before it
// ended. With -logs DIR each timed run's requests are written there as a
// timeline, with one longest chain marked.
//
// Every timed run gets a fresh target registry and a private HOME and
// XDG_CACHE_HOME (a warm-registry seed and its timed copy share them).
// It writes results.json and results.md to -out.
//
//	go run ./bench/compare -out bench/out [-reps 3] [-size 1GiB] [-latency 0,10ms] [-cases cold,fleet] [-tools promote,crane] [-parallel 4,16] [-logs DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var allCases = []string{"cold", "warm-target", "warm-registry", "fleet"}
var allTools = []string{"promote", "crane", "skopeo", "regctl"}

type options struct {
	reps, fleet, uid int
	parallel         []int // fleet concurrencies: peers' worker pools, promote's --jobs
	size, latSize    int64 // the big image's layer bytes on loopback, and with latency
	nets             []netCase
	idle             float64
	idleWait         time.Duration
	cases, tools     []string
	out, work, logs  string
	baseline         string // another promote binary, run beside this one as "promote (baseline)"
}

type harness struct {
	opt     options
	root    string
	tools   *toolset
	work    string
	src     *registry
	imgs    images
	reports map[string]string // APP:TAG of a big image -> scan report bound to its digest
	runs    []runResult
	started time.Time
	net     netCase       // the network case running
	connIDs atomic.Int64  // connection ids across every proxy, for timelines
	traces  []*phaseTrace // promote's phases, one cold run per network with latency

	mu   sync.Mutex
	live map[*registry]bool // stopped on exit, even on SIGINT
}

func main() {
	if os.Getenv(spawnerEnv) == "1" {
		spawnerMain()
		return
	}
	opt, err := parseFlags()
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(2)
	}
	if spawn, err = startSpawner(); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
	h := &harness{opt: opt, live: map[*registry]bool{}, reports: map[string]string{}, started: time.Now().UTC()}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "compare: interrupted, cleaning up")
		h.cleanup()
		os.Exit(130)
	}()
	err = h.main()
	h.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags() (options, error) {
	var o options
	var size, latSize, cases, tools, latency, parallel string
	flag.IntVar(&o.reps, "reps", 3, "timed repetitions per tool, case and network (median and min reported)")
	flag.StringVar(&size, "size", "1GiB", "total layer bytes of the big image on loopback (e.g. 64MiB for a quick check)")
	flag.StringVar(&latSize, "latency-size", "256MiB", "total layer bytes of the big image in the networks with latency (same for every tool; toxiproxy spends ~1.4 CPU-seconds per GiB per hop: a 1 GiB copy would measure CPU, not round trips); 0: as -size")
	flag.StringVar(&latency, "latency", "0,10ms", "networks to run every case over: one-way latencies, comma-separated; 0 is loopback, L>0 puts toxiproxy with L in each direction (whole ms) before every registry")
	flag.StringVar(&cases, "cases", strings.Join(allCases, ","), "cases to run: "+strings.Join(allCases, ","))
	flag.StringVar(&tools, "tools", strings.Join(allTools, ","), "tools to measure: "+strings.Join(allTools, ","))
	flag.IntVar(&o.fleet, "fleet", 200, "images in the fleet case")
	flag.StringVar(&parallel, "parallel", "4,16", "fleet concurrencies, comma-separated: the peers run one command per image sequentially and with a worker pool of each size; promote runs one batch with --jobs each size")
	flag.IntVar(&o.uid, "uid", -2, "run the tools as this uid (default: 65534 when run as root, so skopeo's blob-info cache follows HOME instead of /var/lib/containers; -1: as the caller)")
	flag.Float64Var(&o.idle, "idle", 0.5, "before each timed run wait until this fraction of the machine's CPU is idle (0: do not wait)")
	flag.DurationVar(&o.idleWait, "idle-wait", time.Minute, "wait at most this long for -idle, then run anyway (the report shows others' CPU per run)")
	flag.StringVar(&o.baseline, "baseline", "", "also run this promote binary (an earlier build) in every case, as \"promote (baseline)\", to compare builds side by side in one run")
	flag.StringVar(&o.logs, "logs", "", "keep in this directory each timed run's registry access logs (source and target) and its timeline: every request as the timing proxies saw it, one longest chain (the round trips) marked")
	flag.StringVar(&o.out, "out", "bench/out", "directory for results.json and results.md")
	flag.StringVar(&o.work, "work", os.TempDir(), "directory for registries' storage and the tools' private homes")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `Usage: go run ./bench/compare [flags]

Times promote to, crane copy, skopeo copy and regctl image copy on the same
images and real registries (docker-registry on 127.0.0.1), in one run: each
case (cold, warm-target, warm-registry, fleet) for every tool over each network
of -latency: loopback, and for L>0 toxiproxy adding L each way (and 2L per new
connection, the handshake) between every tool and every registry. Reports wall
time, requests, round trips (the critical path: the longest chain of requests
each starting after the one before it ended), bytes, CPU and peak RSS in
-out/results.{md,json}; with -logs a timeline of every run's requests.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	var err error
	if o.size, err = parseSize(size); err != nil {
		return o, err
	}
	o.latSize = o.size
	if latSize != "0" {
		if o.latSize, err = parseSize(latSize); err != nil {
			return o, fmt.Errorf("-latency-size: %w", err)
		}
	}
	if o.cases, err = parseList(cases, allCases, "case"); err != nil {
		return o, err
	}
	if o.tools, err = parseList(tools, allTools, "tool"); err != nil {
		return o, err
	}
	if o.nets, err = parseLatencies(latency); err != nil {
		return o, err
	}
	for _, f := range strings.Split(parallel, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-parallel: %q is not a worker count of at least 1", f)
		}
		if !slices.Contains(o.parallel, n) {
			o.parallel = append(o.parallel, n)
		}
	}
	if o.reps < 1 || o.fleet < 1 || len(o.parallel) == 0 {
		return o, errors.New("-reps and -fleet must be at least 1, -parallel must list a size")
	}
	if o.uid == -2 {
		o.uid = -1
		if os.Geteuid() == 0 {
			o.uid = 65534
		}
	}
	return o, nil
}

func parseList(s string, valid []string, what string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(valid, f) {
			return nil, fmt.Errorf("unknown %s %q (valid: %s)", what, f, strings.Join(valid, ", "))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s selected", what)
	}
	return out, nil
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-size: want a size such as 1GiB or 64MiB")
	}
	return int64(n * float64(mult)), nil
}

func (h *harness) main() error {
	var err error
	if h.root, err = repoRoot(); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, t := range h.opt.tools {
		want[t] = true
	}
	if h.tools, err = findTools(h.root, want, h.opt.baseline); err != nil {
		return err
	}
	if h.opt.logs != "" {
		if err := os.MkdirAll(h.opt.logs, 0o755); err != nil {
			return err
		}
	}
	if h.work, err = os.MkdirTemp(h.opt.work, "promote-bench-"); err != nil {
		return err
	}
	if err := os.Chmod(h.work, 0o755); err != nil { // the tools' uid reads reports here
		return err
	}
	if h.src, err = h.startRegistry("source"); err != nil {
		return err
	}
	if err := h.setup(); err != nil {
		return err
	}
	for _, n := range h.opt.nets {
		h.net = n
		if err := h.src.setFront(n, &h.connIDs); err != nil {
			return err
		}
		logf("network: %s", n.Title())
		for _, c := range h.opt.cases {
			if err := h.runCase(c); err != nil {
				return err
			}
			if c == "cold" && n.latency > 0 && slices.Contains(h.opt.tools, "promote") {
				t, err := h.tracePhases()
				if err != nil {
					logf("%s: tracing promote's phases: %v", n.Name(), err)
					continue
				}
				h.traces = append(h.traces, t)
			}
		}
	}
	return h.writeResults()
}

// setup pushes the images and, for promote's gated runs, signs them and
// binds a scan report to each, on the source registry directly (not
// through a front: no latency, nothing counted).
func (h *harness) setup() error {
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections() // no idle connection may hold a proxy open
	h.imgs.big = map[string]*bigImage{}
	for _, n := range h.opt.nets {
		app, size := h.bigApp(n)
		if !h.needBig() || h.imgs.big[app] != nil {
			continue
		}
		start := time.Now()
		b, err := pushBig(h.src.direct, app, size, 10, tr)
		if err != nil {
			return err
		}
		h.imgs.big[app] = b
		logf("pushed dev/%s:v1 and v0 (2 platforms, 20 layers, %s) in %s", app, human(b.Bytes), since(start))
		if want := h.opt.tools; slices.Contains(want, "promote") && (slices.Contains(h.opt.cases, "cold") || slices.Contains(h.opt.cases, "warm-target")) {
			for _, tag := range []string{"v0", "v1"} {
				ref := fmt.Sprintf("%s/dev/%s@%s", h.src.direct, app, b.Digests[tag])
				report := filepath.Join(h.work, "scan-"+app+"-"+tag+".json")
				for _, argv := range [][]string{
					{h.tools.promoteDemo, "sign", ref, "--key", filepath.Join(h.root, "testdata/demo/demo.key")},
					{h.tools.promoteDemo, "report", ref, "--from", filepath.Join(h.root, "testdata/scan/trivy-sl-micro-rancher5.4.json"), "--out", report},
				} {
					if _, err := run([][]string{argv}, os.Environ(), h.root, -1, 1); err != nil {
						return err
					}
				}
				h.reports[app+":"+tag] = report
			}
		}
	}
	if slices.Contains(h.opt.cases, "fleet") {
		start := time.Now()
		if err := pushFleet(h.src.direct, h.opt.fleet, tr, &h.imgs); err != nil {
			return err
		}
		logf("pushed %d fleet images (%s of layers) in %s", h.opt.fleet, human(h.imgs.fleetBytes), since(start))
	}
	return nil
}

// bigApp is the big image of network case n: big (-size), or biglat
// (-latency-size) with latency when the sizes differ.
func (h *harness) bigApp(n netCase) (string, int64) {
	if n.latency > 0 && h.opt.latSize != h.opt.size {
		return "biglat", h.opt.latSize
	}
	return "big", h.opt.size
}

func (h *harness) needBig() bool {
	return slices.ContainsFunc(h.opt.cases, func(c string) bool { return c != "fleet" })
}

func (h *harness) startRegistry(name string) (*registry, error) {
	r, err := startRegistry(h.tools.registry, h.work, name)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.live[r] = true
	h.mu.Unlock()
	return r, nil
}

func (h *harness) stopRegistry(r *registry) {
	h.mu.Lock()
	delete(h.live, r)
	h.mu.Unlock()
	r.stop()
}

func (h *harness) cleanup() {
	h.mu.Lock()
	live := h.live
	h.live = map[*registry]bool{}
	h.mu.Unlock()
	for r := range live {
		r.stop()
	}
	spawn.stop()
	if h.work != "" {
		os.RemoveAll(h.work)
	}
}

// repoRoot is the nearest directory up from here holding go.mod and cmd/promote.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "promote")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the promote repository (no go.mod with cmd/promote above here)")
		}
		dir = parent
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }
