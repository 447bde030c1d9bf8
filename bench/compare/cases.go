package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// contender is one row of a table: a tool, and for promote whether the
// target environment has gates.
type contender struct {
	label, tool string
	gates       bool
	bin         string // promote's binary when not the one built here (-baseline)
}

// baselineLabel is the contender of -baseline.
const baselineLabel = "promote (baseline)"

// copySpec is one image to move: SRC/dev/APP:TAG -> TGT/ENV/APP:TAG (ENV
// test, or seed for a warm-registry seed copy).
type copySpec struct{ env, app, tag string }

// runResult is one timed run.
type runResult struct {
	Network    string   `json:"network"` // loopback, or the one-way latency (10ms)
	LatencyMs  int64    `json:"latency_ms"`
	Case       string   `json:"case"`
	Contender  string   `json:"contender"`
	Mode       string   `json:"mode,omitempty"` // fleet: sequential, parallel N, batch --jobs N
	Rep        int      `json:"rep"`
	WallSec    float64  `json:"wall_seconds"`
	CPUSec     float64  `json:"cpu_seconds"`            // user+system of the tool's processes
	RegCPUSec  float64  `json:"registries_cpu_seconds"` // both registries, during the run
	SrcCPUSec  float64  `json:"source_registry_cpu_seconds"`
	HarnessCPU float64  `json:"harness_cpu_seconds"` // this process: the timing proxies and toxiproxy
	OtherCPU   float64  `json:"others_cpu_seconds"`  // the machine's busy time neither the tools, the registries nor the harness spent
	Idle       float64  `json:"idle_before"`         // idle fraction of the machine in the second before the run
	TgtDiskW   int64    `json:"target_disk_write_bytes"`
	Load1      float64  `json:"load1"` // the machine's 1-minute load average as the run started
	MaxRSSKiB  int64    `json:"max_rss_kib"`
	Procs      int      `json:"processes"`
	Source     traffic  `json:"source_bytes"` // Down: read from the source registry
	Target     traffic  `json:"target_bytes"` // Up: written to the target registry
	SourceReqs requests `json:"source_requests"`
	TargetReqs requests `json:"target_requests"`
	Timed      int      `json:"timed_requests"` // requests the timing proxies saw, both registries
	RoundTrips int      `json:"round_trips"`    // critical path: the longest chain of requests each after the one before ended
	Command    string   `json:"command"`
	Err        string   `json:"error,omitempty"`
}

// runCtx is what one run owns: a fresh target registry and a private
// directory holding the tool's HOME, promote's config and ledger.
type runCtx struct {
	dir, cfg string
	env      []string
	tgt      *registry
}

func (h *harness) contenders(c string) []contender {
	var out []contender
	for _, t := range h.opt.tools {
		out = append(out, contender{label: t, tool: t})
		if t == "promote" && (c == "cold" || c == "warm-target") {
			out = append(out, contender{label: "promote+gates", tool: t, gates: true})
		}
		if t == "promote" && h.opt.baseline != "" {
			out = append(out, contender{label: baselineLabel, tool: t, bin: h.opt.baseline})
		}
	}
	return out
}

// modes are the ways a contender runs a case: one copy for the big image;
// for the fleet a batch with --jobs N for each -parallel N (promote with
// batch mode), or one command per image, sequentially (on loopback only:
// with latency no target compares with it, and 200 commands one after
// another take minutes) and with a worker pool of each -parallel N.
func (h *harness) modes(c string, ct contender) []string {
	switch {
	case c != "fleet":
		return []string{""}
	case ct.tool == "promote" && h.tools.batch:
		var out []string
		for _, n := range h.opt.parallel {
			out = append(out, fmt.Sprintf("batch --jobs %d", n))
		}
		return out
	default:
		var out []string
		if h.net.latency == 0 {
			out = append(out, "sequential")
		}
		for _, n := range h.opt.parallel {
			out = append(out, fmt.Sprintf("parallel %d", n))
		}
		return out
	}
}

// concurrency is how many images a fleet mode moves at once: N of
// "parallel N" and "batch --jobs N", 1 otherwise.
func concurrency(mode string) int {
	f := strings.Fields(mode)
	if len(f) > 0 {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil {
			return n
		}
	}
	return 1
}

func (h *harness) runCase(c string) error {
	for rep := 1; rep <= h.opt.reps; rep++ {
		cts := h.contenders(c)
		// each repetition starts with another contender, so none always
		// runs first after the idle wait or right after the same neighbour
		k := (rep - 1) % len(cts)
		cts = append(cts[k:], cts[:k]...)
		for _, ct := range cts {
			for _, mode := range h.modes(c, ct) {
				r := h.runOnce(c, ct, mode, rep)
				h.runs = append(h.runs, r)
				if r.Err != "" {
					logf("%s rep %d %s %s: FAILED: %s", c, rep, ct.label, mode, r.Err)
					continue
				}
				logf("%-8s %-13s rep %d %-13s %-16s %7.2fs cpu %6.2fs reg %5.2fs harness %5.2fs others %5.2fs  src read %-10s tgt written %-10s rss %-9s reqs %d+%d (mounts %d) round trips %d",
					h.net.Name(), c, rep, ct.label, mode, r.WallSec, r.CPUSec, r.RegCPUSec, r.HarnessCPU, r.OtherCPU, human(r.Source.Down), human(r.Target.Up), human(r.MaxRSSKiB<<10),
					r.SourceReqs.Total, r.TargetReqs.Total, r.TargetReqs.Mounts, r.RoundTrips)
			}
		}
	}
	return nil
}

// runOnce sets up a fresh target, does the untimed seed copy the case
// needs, then the timed copy, verifies the target and tears it all down.
func (h *harness) runOnce(c string, ct contender, mode string, rep int) runResult {
	res := runResult{Network: h.net.Name(), LatencyMs: h.net.latency.Milliseconds(), Case: c, Contender: ct.label, Mode: mode, Rep: rep}
	rc, err := h.newRun(ct)
	if rc != nil {
		defer h.endRun(rc)
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	var seed, timed []copySpec
	big, _ := h.bigApp(h.net)
	switch c {
	case "cold":
		timed = []copySpec{{"test", big, "v1"}}
	case "warm-target": // v0 shares every layer with v1; only configs and manifests differ
		seed, timed = []copySpec{{"test", big, "v0"}}, []copySpec{{"test", big, "v1"}}
	case "warm-registry":
		seed, timed = []copySpec{{"seed", big, "v1"}}, []copySpec{{"test", big, "v1"}}
	case "fleet":
		for _, app := range h.imgs.fleet {
			timed = append(timed, copySpec{"test", app, "v1"})
		}
	}
	if len(seed) > 0 {
		if _, err := run(h.argv(ct, rc, seed, 0), rc.env, rc.dir, h.opt.uid, 1); err != nil {
			res.Err = "seed copy: " + err.Error()
			return res
		}
	}
	parallel, jobs := 1, 0
	switch {
	case strings.HasPrefix(mode, "parallel"):
		parallel = concurrency(mode)
	case strings.HasPrefix(mode, "batch"):
		jobs = concurrency(mode)
	}
	cmds := h.argv(ct, rc, timed, jobs)
	res.Command = shellJoin(cmds[0])
	if len(cmds) > 1 {
		res.Command += fmt.Sprintf("   (and %d more like it)", len(cmds)-1)
	}
	if err := h.drain(rc); err != nil {
		res.Err = err.Error()
		return res
	}
	h.src.proxy.takeRequests() // the seed copy's
	rc.tgt.proxy.takeRequests()
	s0, t0 := h.src.proxy.snapshot(), rc.tgt.proxy.snapshot()
	sl, tl := h.src.logSize(), rc.tgt.logSize()
	res.Idle, res.Load1 = h.settle(), load1()
	sys0 := h.sysSnapshot(rc)
	start := time.Now()
	p, runErr := run(cmds, rc.env, rc.dir, h.opt.uid, parallel)
	drainErr := h.drain(rc)
	sys1 := h.sysSnapshot(rc)
	reg := (sys1.srcCPU - sys0.srcCPU) + (sys1.tgtCPU - sys0.tgtCPU)
	res.RegCPUSec, res.TgtDiskW = reg.Seconds(), sys1.tgtWrites-sys0.tgtWrites
	res.SrcCPUSec = (sys1.srcCPU - sys0.srcCPU).Seconds()
	res.HarnessCPU = (sys1.self - sys0.self).Seconds()
	reqs := append(h.src.proxy.takeRequests(), rc.tgt.proxy.takeRequests()...)
	var chain []int
	res.Timed = len(reqs)
	res.RoundTrips, chain = criticalPath(reqs)
	h.saveLogs(rc, &res, sl, tl, start, reqs, chain)
	res.OtherCPU = max(0, (sys1.busy - sys0.busy - reg - p.cpu - (sys1.self - sys0.self)).Seconds())
	time.Sleep(20 * time.Millisecond) // the registry logs a request just after answering it
	res.WallSec, res.CPUSec, res.MaxRSSKiB, res.Procs = p.wall.Seconds(), p.cpu.Seconds(), p.maxRSS, p.n
	res.Source, res.Target = h.src.proxy.snapshot().sub(s0), rc.tgt.proxy.snapshot().sub(t0)
	res.SourceReqs, _ = h.src.requestsSince(sl)
	res.TargetReqs, _ = rc.tgt.requestsSince(tl)
	switch {
	case runErr != nil:
		res.Err = runErr.Error()
	case drainErr != nil:
		res.Err = drainErr.Error()
	default:
		if err := h.verify(rc, timed); err != nil {
			res.Err = err.Error()
		}
	}
	return res
}

func (h *harness) drain(rc *runCtx) error {
	if err := h.src.proxy.drain(10 * time.Second); err != nil {
		return err
	}
	return rc.tgt.proxy.drain(10 * time.Second)
}

// argv is the exact command line(s) of a contender for copies: one per
// image, or with jobs > 0 one promote batch with --jobs jobs.
func (h *harness) argv(ct contender, rc *runCtx, copies []copySpec, jobs int) [][]string {
	src := func(c copySpec) string { return fmt.Sprintf("%s/dev/%s:%s", h.src.Host, c.app, c.tag) }
	dst := func(c copySpec) string { return fmt.Sprintf("%s/%s/%s:%s", rc.tgt.Host, c.env, c.app, c.tag) }
	var out [][]string
	if ct.tool == "promote" {
		bin := h.tools.promote
		if ct.bin != "" {
			bin = ct.bin
		}
		base := []string{bin, "--config", rc.cfg, "--insecure-registry", h.src.Host, "--insecure-registry", rc.tgt.Host, "to"}
		if jobs > 0 {
			argv := append(slices.Clone(base), copies[0].env)
			for _, c := range copies {
				argv = append(argv, c.app+":"+c.tag)
			}
			return [][]string{append(argv, "--jobs", fmt.Sprint(jobs))}
		}
		for _, c := range copies {
			argv := append(slices.Clone(base), c.env, c.app+":"+c.tag)
			if report := h.reports[c.app+":"+c.tag]; ct.gates && report != "" {
				argv = append(argv, "--scan-report", report)
			}
			out = append(out, argv)
		}
		return out
	}
	for _, c := range copies {
		switch ct.tool {
		case "crane":
			out = append(out, []string{h.tools.crane, "copy", src(c), dst(c)})
		case "skopeo":
			out = append(out, []string{h.tools.skopeo, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://" + src(c), "docker://" + dst(c)})
		case "regctl":
			out = append(out, []string{h.tools.regctl, "image", "copy", src(c), dst(c)})
		}
	}
	return out
}

func (h *harness) newRun(ct contender) (*runCtx, error) {
	dir, err := os.MkdirTemp(h.work, "run-"+ct.label+"-")
	if err != nil {
		return nil, err
	}
	rc := &runCtx{dir: dir, cfg: filepath.Join(dir, "environments.yaml")}
	if rc.tgt, err = h.startRegistry("target"); err != nil {
		return rc, err
	}
	if err := rc.tgt.setFront(h.net, &h.connIDs); err != nil {
		return rc, err
	}
	if rc.env, err = toolEnv(filepath.Join(dir, "home")); err != nil {
		return rc, err
	}
	if ct.tool == "promote" {
		if err := os.WriteFile(rc.cfg, []byte(h.promoteConfig(rc, ct.gates)), 0o644); err != nil {
			return rc, err
		}
	}
	if h.opt.uid >= 0 {
		if err := chownTree(dir, h.opt.uid); err != nil {
			return rc, err
		}
	}
	if ct.tool == "regctl" { // plain HTTP for both registries, in the private HOME
		for _, host := range []string{h.src.Host, rc.tgt.Host} {
			if _, err := run([][]string{{h.tools.regctl, "registry", "set", "--tls", "disabled", host}}, rc.env, dir, h.opt.uid, 1); err != nil {
				return rc, err
			}
		}
	}
	return rc, nil
}

func (h *harness) endRun(rc *runCtx) {
	if rc.tgt != nil {
		h.stopRegistry(rc.tgt)
	}
	os.RemoveAll(rc.dir)
}

// promoteConfig: dev is the source registry's mutable dev/{app}; test the
// target's immutable test/{app} fed from dev (with the demo's gates when
// gates is set); seed the target's seed/{app}, for warm-registry seeds.
func (h *harness) promoteConfig(rc *runCtx, gates bool) string {
	cfg := fmt.Sprintf(`version: 1
ledger: %s
environments:
  - name: dev
    repository: %s/dev/{app}
    tags: mutable
  - name: seed
    from: dev
    repository: %s/seed/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %s/test/{app}
    tags: immutable
`, filepath.Join(rc.dir, "ledger.db"), h.src.Host, rc.tgt.Host, rc.tgt.Host)
	if gates {
		cfg += fmt.Sprintf(`    gates:
      - platforms: {require: [linux/amd64, linux/arm64]}
      - nonroot: {}
      - labels: {require: [org.opencontainers.image.source, org.opencontainers.image.revision]}
      - signed: {keys: [%s]}
      - scan: {sources: [report], maxSeverity: high}
`, filepath.Join(h.root, "testdata/demo/demo.pub"))
	}
	return cfg
}
