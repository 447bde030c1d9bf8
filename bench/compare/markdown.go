package main

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

var caseTitles = map[string]string{
	"cold":          "cold — the big image into an empty target registry",
	"warm-target":   "warm target — the big image into a repository that already holds every layer (v0, same layers, other configs, copied first, untimed)",
	"warm-registry": "warm registry — the big image into test/big of a registry whose seed/big holds it, copied there first by the same tool (untimed), caches kept",
	"fleet":         "fleet — %d small images, each its own repository",
}

func (h *harness) markdown(sums []summary) string {
	var b strings.Builder
	m := describeMachine(h.started)
	fmt.Fprintf(&b, "# promote beside crane, skopeo and regctl\n\n")
	fmt.Fprintf(&b, "Command: `%s`  \n", commandLine())
	fmt.Fprintf(&b, "Started %s. Machine: %d CPUs (%s), %s, Linux %s, %s; load average %s.  \n", m.Started, m.CPUs, m.CPU, m.Memory, m.Kernel, m.Go, m.Load)
	fmt.Fprintf(&b, "Tools:\n")
	keys := make([]string, 0, len(h.tools.versions))
	for k := range h.tools.versions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, h.tools.versions[k])
	}
	var bigs []string
	for _, n := range h.opt.nets {
		app, _ := h.bigApp(n)
		if b := h.imgs.big[app]; b != nil {
			bigs = append(bigs, fmt.Sprintf("%s (%s) %s of layers", n.Title(), app, human(b.Bytes)))
		}
	}
	fmt.Fprintf(&b, "\nImages: big = OCI index, linux/amd64 + linux/arm64, 10 layers each of incompressible data: %s", strings.Join(bigs, "; "))
	if h.opt.latSize != h.opt.size && len(h.imgs.big) > 1 {
		fmt.Fprintf(&b, " (with latency a smaller image, -latency-size, the same for every tool: toxiproxy spends about 1.4 CPU-seconds per GiB per hop, which on a small machine would make a 1 GiB copy measure CPU, not round trips)")
	}
	if len(h.imgs.fleet) > 0 {
		fmt.Fprintf(&b, "; fleet = %d single-platform images of %s each", len(h.imgs.fleet), human(h.imgs.fleetBytes/int64(len(h.imgs.fleet))))
	}
	fmt.Fprintf(&b, ".  \nEach timed run: a fresh target registry (docker-registry, own storage, deleted after), a private HOME/XDG_CACHE_HOME"+
		" (uid %d), every tool through a counting and timing TCP proxy in front of each registry (userspace copy with 256 KiB buffers). Wall time: median and min of %d runs; bytes, requests and round trips: the median run;"+
		" peak RSS: the largest maxrss of any process of any run (tools are started by a small spawner process, as Linux counts the starting process's peak in a child's maxrss: no figure is below its %s). CPU: user+system of the tool's processes; registries' CPU: both docker-registry processes;"+
		" harness CPU: the harness process (the timing proxies, and toxiproxy when there is latency);"+
		" others' CPU: the machine's busy time that none of these spent (other work on the machine) — a shared machine makes wall times noisy;"+
		" each run waited up to %s for %.0f%% of the CPU to be idle. promote+gates: platforms, nonroot, labels, signed (cosign key), scan (--scan-report).\n",
		h.opt.uid, h.opt.reps, human(spawn.floorKiB<<10), h.opt.idleWait, 100*h.opt.idle)
	fmt.Fprintf(&b, "\nNetworks: %s. With a one-way latency L, an in-process toxiproxy (v2.5.0) sits between the timing proxy and each registry"+
		" with a latency toxic of L on both streams, so every request and its response cost at least 2L;"+
		" toxiproxy does not delay the TCP handshake, which on a real network costs a round trip before a new connection's first byte leaves,"+
		" so the timing proxy forwards the first bytes of each new connection no earlier than 2L after it accepted it"+
		" (reused connections are not delayed). The registries' setup (images, signatures) went to the source directly, untimed.\n",
		netTitles(h.opt.nets))
	fmt.Fprintf(&b, "\nRequests: the timing proxy splits each connection into HTTP/1.1 requests by turn-taking (a request starts with the client's first bytes"+
		" after the registry answered, and ends with the registry's last bytes before the next request or the close)."+
		" Round trips: the critical path, the longest chain of requests over both registries in which each starts after the one before it ended;"+
		" at latency L it alone costs at least round trips × 2L. requests: source + target, from the registries' access logs.\n")
	if len(h.reports) > 0 {
		fmt.Fprintf(&b, "The big images' v1 and v0 carry a cosign signature (legacy `.sig` tag, for the signed gate): promote copies it with the image, as a promotion does; the peers copy the image only.  \n")
	}
	if slices.Contains(h.opt.cases, "fleet") {
		ns := make([]string, len(h.opt.parallel))
		for i, n := range h.opt.parallel {
			ns[i] = fmt.Sprint(n)
		}
		mode := "one command per image, like the peers"
		if h.tools.batch {
			mode = fmt.Sprintf("one batch command (`promote to test app001:v1 … --jobs N`) for each N of %s", strings.Join(ns, ", "))
		}
		fmt.Fprintf(&b, "\nFleet: peers run one command per image, sequentially (on loopback only) and %s at once (a worker pool); promote runs %s.\n", strings.Join(ns, " and "), mode)
	}
	for _, n := range h.opt.nets {
		fmt.Fprintf(&b, "\n## %s\n", n.Title())
		ns := netRows(sums, n)
		for _, c := range h.opt.cases {
			h.caseTable(&b, c, ns)
		}
		if n.latency == 0 {
			h.targets(&b, ns)
		} else {
			h.latencyTargets(&b, n, ns, sums)
		}
		for _, t := range h.traces {
			if t.Network == n.Name() {
				phaseFigure(&b, t)
			}
		}
	}
	var fails []string
	for _, r := range h.runs {
		if r.Err != "" {
			fails = append(fails, fmt.Sprintf("- %s rep %d %s %s:\n\n```\n%s\n```\n", r.Case, r.Rep, r.Contender, r.Mode, r.Err))
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(&b, "\n## Failures\n\n%s", strings.Join(fails, "\n"))
	}
	return b.String()
}

func (h *harness) caseTable(b *strings.Builder, c string, sums []summary) {
	title := caseTitles[c]
	if c == "fleet" {
		title = fmt.Sprintf(title, len(h.imgs.fleet))
	}
	fmt.Fprintf(b, "\n### %s\n\n", title)
	fmt.Fprintf(b, "| tool | mode | wall median | min | round trips | requests | CPU | registries' CPU | harness CPU | others' CPU | read from source | written to target | target disk writes | peak RSS | target requests | promote/this | promote+gates/this |\n")
	fmt.Fprintf(b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
	rows := caseRows(sums, c)
	var bestPeer *summary
	for i, s := range rows {
		if !s.ok() {
			fmt.Fprintf(b, "| %s | %s | failed (%d/%d) | | | | | | | | | | | %s | | | |\n", s.Contender, s.Mode, s.Failed, s.Runs, human(s.MaxRSSKiB<<10))
			continue
		}
		if !strings.HasPrefix(s.Contender, "promote") && (bestPeer == nil || s.MedianSec < bestPeer.MedianSec) {
			bestPeer = &rows[i]
		}
		mode := s.Mode
		if mode == "" {
			mode = "one copy"
		}
		reqs := fmt.Sprintf("%d + %d", s.SourceReqs.Total, s.TargetReqs.Total)
		if c == "fleet" && len(h.imgs.fleet) > 0 {
			n := float64(len(h.imgs.fleet))
			reqs += fmt.Sprintf(" (%.1f + %.1f per image)", float64(s.SourceReqs.Total)/n, float64(s.TargetReqs.Total)/n)
		}
		fmt.Fprintf(b, "| %s | %s | %.2f s | %.2f s | %d | %s | %.2f s | %.2f s | %.2f s | %.2f s | %s | %s | %s | %s | %s | %s | %s |\n",
			s.Contender, mode, s.MedianSec, s.MinSec, s.RoundTrips, reqs, s.CPUSec, s.RegCPUSec, s.HarnessCPU, s.OtherCPU,
			human(s.Source.Down), human(s.Target.Up), human(s.TgtDiskW), human(s.MaxRSSKiB<<10), reqSummary(s.TargetReqs),
			ratio(promoteFor(rows, "promote", s), s), ratio(promoteFor(rows, "promote+gates", s), s))
	}
	ref, gated := bestOf(rows, "promote"), bestOf(rows, "promote+gates")
	lo, hi, seen := 0.0, 0.0, false
	for _, s := range rows {
		if s.ok() {
			if !seen {
				lo, hi, seen = s.LoadMin, s.LoadMax, true
			}
			lo, hi = min(lo, s.LoadMin), max(hi, s.LoadMax)
		}
	}
	fmt.Fprintf(b, "\nLoad average (1 min) as runs started: %.1f–%.1f on %d CPUs.\n", lo, hi, runtime.NumCPU())
	if ref != nil && bestPeer != nil {
		fmt.Fprintf(b, "Best peer: %s %s (%.2f s); promote (%s) / best peer = %.2fx.\n", bestPeer.Contender, bestPeer.Mode, bestPeer.MedianSec, orOne(ref.Mode), ref.MedianSec/bestPeer.MedianSec)
	}
	if c == "fleet" {
		fmt.Fprintf(b, "promote/this compares promote's batch at the same concurrency (--jobs N against parallel N), else its fastest.\n")
	}
	if ref != nil && gated != nil {
		fmt.Fprintf(b, "Gates add %+.1f%% to promote's median here (%.2f s → %.2f s).\n", 100*(gated.MedianSec/ref.MedianSec-1), ref.MedianSec, gated.MedianSec)
	}
}

func orOne(mode string) string {
	if mode == "" {
		return "one copy"
	}
	return mode
}

func netTitles(nets []netCase) string {
	t := make([]string, len(nets))
	for i, n := range nets {
		t[i] = n.Title()
	}
	return strings.Join(t, "; ")
}

// netRows are the summaries of one network case.
func netRows(sums []summary, n netCase) []summary {
	var rows []summary
	for _, s := range sums {
		if s.Network == n.Name() {
			rows = append(rows, s)
		}
	}
	return rows
}

// promoteFor is the contender's row to set beside row: in the fleet its
// batch at row's concurrency (--jobs N for parallel N), else its fastest.
func promoteFor(rows []summary, contender string, row summary) *summary {
	if n := concurrency(row.Mode); row.Case == "fleet" && n > 1 {
		for i, s := range rows {
			if s.Contender == contender && s.ok() && strings.HasPrefix(s.Mode, "batch") && concurrency(s.Mode) == n {
				return &rows[i]
			}
		}
	}
	return bestOf(rows, contender)
}

// modeRow is the contender's row in a case with exactly this mode.
func modeRow(rows []summary, contender, mode string) *summary {
	for i, s := range rows {
		if s.Contender == contender && s.Mode == mode && s.ok() {
			return &rows[i]
		}
	}
	return nil
}

func caseRows(sums []summary, c string) []summary {
	var rows []summary
	for _, s := range sums {
		if s.Case == c {
			rows = append(rows, s)
		}
	}
	return rows
}

// bestOf is the contender's fastest mode in a case (the fleet may have two).
func bestOf(rows []summary, contender string) *summary {
	var best *summary
	for i, s := range rows {
		if s.Contender == contender && s.ok() && (best == nil || s.MedianSec < best.MedianSec) {
			best = &rows[i]
		}
	}
	return best
}

func ratio(num *summary, den summary) string {
	if num == nil || !den.ok() || den.MedianSec == 0 || (num.Contender == den.Contender && num.Mode == den.Mode) {
		return "—"
	}
	return fmt.Sprintf("%.2fx", num.MedianSec/den.MedianSec)
}

func reqSummary(r requests) string {
	methods := make([]string, 0, len(r.ByMethod))
	for m := range r.ByMethod {
		methods = append(methods, m)
	}
	sort.Slice(methods, func(i, j int) bool { return r.ByMethod[methods[i]] > r.ByMethod[methods[j]] })
	parts := make([]string, len(methods))
	for i, m := range methods {
		parts[i] = fmt.Sprintf("%d %s", r.ByMethod[m], m)
	}
	s := fmt.Sprintf("%d: %s; %d uploads, %d mounts", r.Total, strings.Join(parts, ", "), r.BlobPuts, r.Mounts)
	if r.Errors > 0 {
		s += fmt.Sprintf(", %d errors", r.Errors)
	}
	return s
}

// targets checks the figures against issue 6's targets.
func (h *harness) targets(b *strings.Builder, sums []summary) {
	type check struct{ what, got string }
	var checks []check
	get := func(c, contender string) *summary { return bestOf(caseRows(sums, c), contender) }
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "missed"
	}
	vsCrane := func(c string, limit float64) {
		p, cr := get(c, "promote"), get(c, "crane")
		if p != nil && cr != nil {
			r, rmin := p.MedianSec/cr.MedianSec, p.MinSec/cr.MinSec
			checks = append(checks, check{fmt.Sprintf("%s: at most %.1fx crane", c, limit),
				fmt.Sprintf("%.2fx on medians, %.2fx on minima — %s", r, rmin, verdict(r <= limit && rmin <= limit))})
		}
	}
	vsCrane("cold", 0.8)
	vsCrane("warm-registry", 0.2)
	if g, big := get("warm-target", "promote+gates"), h.imgs.big["big"]; g != nil && big != nil {
		perLayer := big.Bytes / 20
		ok := g.MedianSec < 1 && g.Target.Up < perLayer/2
		checks = append(checks, check{"warm target: no layer bytes, under 1 s with all gates",
			fmt.Sprintf("%.2f s, %s written — %s", g.MedianSec, human(g.Target.Up), verdict(ok))})
	}
	if p := get("fleet", "promote"); p != nil {
		var best *summary
		rows := caseRows(sums, "fleet")
		for i, s := range rows {
			if !strings.HasPrefix(s.Contender, "promote") && s.ok() && (best == nil || s.MedianSec < best.MedianSec) {
				best = &rows[i]
			}
		}
		if best != nil {
			r, rmin := p.MedianSec/best.MedianSec, p.MinSec/best.MinSec
			checks = append(checks, check{"fleet: at most 0.5x the best peer",
				fmt.Sprintf("%.2fx on medians, %.2fx on minima (%s %s) — %s", r, rmin, best.Contender, best.Mode, verdict(r <= 0.5 && rmin <= 0.5))})
		}
	}
	if rss := promoteRSS(sums); rss > 0 {
		checks = append(checks, check{"peak memory under 100 MiB", fmt.Sprintf("%s — %s", human(rss<<10), verdict(rss < 100<<10))})
	}
	if p, g := get("cold", "promote"), get("cold", "promote+gates"); p != nil && g != nil {
		r, rmin := g.MedianSec/p.MedianSec-1, g.MinSec/p.MinSec-1
		checks = append(checks, check{"gates add under 10% to a cold copy",
			fmt.Sprintf("%+.1f%% on medians, %+.1f%% on minima — %s", 100*r, 100*rmin, verdict(r < 0.10 && rmin < 0.10))})
	}
	if h.opt.baseline != "" {
		for _, c := range h.opt.cases {
			rows := caseRows(sums, c)
			for _, p := range rows {
				if p.Contender != "promote" || !p.ok() {
					continue
				}
				base := modeRow(rows, baselineLabel, p.Mode)
				if base == nil || !base.ok() {
					continue
				}
				r, rmin := p.MedianSec/base.MedianSec, p.MinSec/base.MinSec
				checks = append(checks, check{fmt.Sprintf("%s %s: not slower than the baseline build (within 5%%, the noise of one run)", c, orOne(p.Mode)),
					fmt.Sprintf("%.2fx on medians, %.2fx on minima (%.2f s / %.2f s) — %s", r, rmin, p.MedianSec, base.MedianSec, verdict(r <= 1.05 && rmin <= 1.05))})
			}
		}
	}
	if len(checks) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Targets on loopback (issue 6's, and issue 17's: no case slower than before)\n\nMet only if met on both the medians and the minima (the minima are the runs least disturbed by other work).\n\n| target | this run |\n|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(b, "| %s | %s |\n", c.what, c.got)
	}
	if h.opt.size < 1<<30 {
		fmt.Fprintf(b, "\n(The big image is %s here, not the 1 GiB of the targets.)\n", human(h.opt.size))
	}
}

// latencyTargets checks the figures of a network case with latency
// against issue 17's targets (set for 10 ms each way).
func (h *harness) latencyTargets(b *strings.Builder, n netCase, sums, all []summary) {
	type check struct{ what, got string }
	var checks []check
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "missed"
	}
	vs := func(what string, p, cr *summary, limit float64, note string) {
		if p == nil || cr == nil {
			return
		}
		r, rmin := p.MedianSec/cr.MedianSec, p.MinSec/cr.MinSec
		checks = append(checks, check{what, fmt.Sprintf("%.2fx on medians, %.2fx on minima (%.2f s / %.2f s; round trips %d / %d)%s — %s",
			r, rmin, p.MedianSec, cr.MedianSec, p.RoundTrips, cr.RoundTrips, note, verdict(r <= limit && rmin <= limit))})
	}
	rows := func(c string) []summary { return caseRows(sums, c) }
	vs("cold: at most 0.7x crane (promote)", modeRow(rows("cold"), "promote", ""), modeRow(rows("cold"), "crane", ""), 0.7, "")
	vs("cold: at most 0.7x crane (promote+gates)", modeRow(rows("cold"), "promote+gates", ""), modeRow(rows("cold"), "crane", ""), 0.7, "")
	for _, p := range h.opt.parallel {
		vs(fmt.Sprintf("fleet at %d at once: at most 0.6x crane", p), modeRow(rows("fleet"), "promote", fmt.Sprintf("batch --jobs %d", p)),
			modeRow(rows("fleet"), "crane", fmt.Sprintf("parallel %d", p)), 0.6, fmt.Sprintf(" (batch --jobs %d against parallel %d)", p, p))
	}
	vs("warm target: at most 1.2x crane (promote+gates: the target's row)", modeRow(rows("warm-target"), "promote+gates", ""), modeRow(rows("warm-target"), "crane", ""), 1.2, "")
	vs("warm target: at most 1.2x crane (promote, no gates)", modeRow(rows("warm-target"), "promote", ""), modeRow(rows("warm-target"), "crane", ""), 1.2, "")
	if rss := promoteRSS(all); rss > 0 {
		checks = append(checks, check{"peak memory under 100 MiB (every network)", fmt.Sprintf("%s — %s", human(rss<<10), verdict(rss < 100<<10))})
	}
	if len(checks) == 0 {
		return
	}
	note := ""
	if n.latency != 10*time.Millisecond {
		note = "; the targets are set for 10 ms each way"
	}
	fmt.Fprintf(b, "\n### Issue 17 targets (%s%s)\n\n", n.Title(), note)
	fmt.Fprintf(b, "Met only if met on both the medians and the minima. Ratios are promote's wall time over crane's, same registries, same run.\n\n| target | this run |\n|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(b, "| %s | %s |\n", c.what, c.got)
	}
	if h.opt.baseline != "" {
		fmt.Fprintf(b, "\n(Issue 17's last target, no loopback case slower than before, is in the loopback section: this build against -baseline.)\n")
	} else {
		fmt.Fprintf(b, "\n(Issue 17's last target, no loopback case slower than before, needs -baseline with the earlier build.)\n")
	}
	if _, size := h.bigApp(n); size < 1<<30 {
		fmt.Fprintf(b, "\n(The big image is %s here, not the 1 GiB of the targets.)\n", human(size))
	}
}

// promoteRSS is the largest peak RSS of this build's promote rows (KiB).
func promoteRSS(sums []summary) int64 {
	var rss int64
	for _, s := range sums {
		if strings.HasPrefix(s.Contender, "promote") && s.Contender != baselineLabel {
			rss = max(rss, s.MaxRSSKiB)
		}
	}
	return rss
}
