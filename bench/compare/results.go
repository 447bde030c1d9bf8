package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// summary is one table row: a contender in a case, over its repetitions.
type summary struct {
	Network    string   `json:"network"`
	LatencyMs  int64    `json:"latency_ms"`
	Case       string   `json:"case"`
	Contender  string   `json:"contender"`
	Mode       string   `json:"mode,omitempty"`
	Runs       int      `json:"runs"`
	Failed     int      `json:"failed"`
	MedianSec  float64  `json:"median_seconds"`
	MinSec     float64  `json:"min_seconds"`
	CPUSec     float64  `json:"median_cpu_seconds"`
	RegCPUSec  float64  `json:"median_registries_cpu_seconds"`
	OtherCPU   float64  `json:"median_others_cpu_seconds"`
	TgtDiskW   int64    `json:"target_disk_write_bytes"` // of the median run
	LoadMin    float64  `json:"load1_min"`
	LoadMax    float64  `json:"load1_max"`
	Source     traffic  `json:"source_bytes"` // of the median run
	Target     traffic  `json:"target_bytes"`
	MaxRSSKiB  int64    `json:"max_rss_kib"` // the largest over all runs
	Procs      int      `json:"processes"`
	TargetReqs requests `json:"target_requests"` // of the median run
	SourceReqs requests `json:"source_requests"`
	RoundTrips int      `json:"round_trips"` // of the median run
	HarnessCPU float64  `json:"median_harness_cpu_seconds"`
	Command    string   `json:"command"`
	Errors     []string `json:"errors,omitempty"`
}

func (s summary) ok() bool { return s.Runs > s.Failed }

func summarise(runs []runResult) []summary {
	var order []string
	groups := map[string][]runResult{}
	for _, r := range runs {
		k := r.Network + "\x00" + r.Case + "\x00" + r.Contender + "\x00" + r.Mode
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []summary
	for _, k := range order {
		g := groups[k]
		s := summary{Network: g[0].Network, LatencyMs: g[0].LatencyMs, Case: g[0].Case, Contender: g[0].Contender, Mode: g[0].Mode, Runs: len(g)}
		var good []runResult
		for _, r := range g {
			s.MaxRSSKiB = max(s.MaxRSSKiB, r.MaxRSSKiB)
			if r.Err != "" {
				s.Failed++
				s.Errors = append(s.Errors, r.Err)
				continue
			}
			good = append(good, r)
		}
		if len(good) > 0 {
			slices.SortFunc(good, func(a, b runResult) int {
				return int((a.WallSec - b.WallSec) * 1e9)
			})
			n := len(good)
			mid := good[(n-1)/2]
			s.MedianSec = (good[(n-1)/2].WallSec + good[n/2].WallSec) / 2
			s.MinSec = good[0].WallSec
			s.Source, s.Target, s.Procs = mid.Source, mid.Target, mid.Procs
			s.TargetReqs, s.SourceReqs, s.Command = mid.TargetReqs, mid.SourceReqs, mid.Command
			s.RoundTrips = mid.RoundTrips
			s.TgtDiskW = mid.TgtDiskW
			s.LoadMin = good[0].Load1
			for _, r := range good {
				s.LoadMin, s.LoadMax = min(s.LoadMin, r.Load1), max(s.LoadMax, r.Load1)
			}
			s.CPUSec = medianOf(good, func(r runResult) float64 { return r.CPUSec })
			s.RegCPUSec = medianOf(good, func(r runResult) float64 { return r.RegCPUSec })
			s.OtherCPU = medianOf(good, func(r runResult) float64 { return r.OtherCPU })
			s.HarnessCPU = medianOf(good, func(r runResult) float64 { return r.HarnessCPU })
		}
		out = append(out, s)
	}
	return out
}

func medianOf(runs []runResult, f func(runResult) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return (v[(len(v)-1)/2] + v[len(v)/2]) / 2
}

// machine describes where the figures were taken.
type machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu"`
	Memory  string `json:"memory"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	Started string `json:"started"`
	Load    string `json:"load"` // 1-minute load average at the start and at the end
}

func describeMachine(started time.Time) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Started: started.Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	m.Memory = strings.Join(strings.Fields(procField("/proc/meminfo", "MemTotal")), " ")
	m.Load = fmt.Sprintf("%.2f at the start, %.2f at the end", startLoad, load1())
	return m
}

// startLoad is the load average when the harness started.
var startLoad = load1()

// load1 is the machine's 1-minute load average: other work on the machine
// shows up here, and makes wall times (not CPU times) noisy.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// commandLine is how this run was started, for the report.
func commandLine() string {
	cmd := "go run ./bench/compare " + strings.Join(os.Args[1:], " ")
	if s := strings.TrimSpace(os.Getenv("BENCH_COMMAND")); s != "" {
		cmd = s + "   # runs: " + cmd
	}
	return strings.TrimSpace(cmd)
}

func (h *harness) writeResults() error {
	if err := os.MkdirAll(h.opt.out, 0o755); err != nil {
		return err
	}
	sums := summarise(h.runs)
	doc := map[string]any{
		"command": commandLine(),
		"machine": describeMachine(h.started),
		"tools":   h.tools.versions,
		"options": map[string]any{
			"reps": h.opt.reps, "size_bytes": h.opt.size, "latency_size_bytes": h.opt.latSize, "cases": h.opt.cases, "tools": h.opt.tools,
			"fleet": h.opt.fleet, "parallel": h.opt.parallel, "uid": h.opt.uid, "latency_ms": latenciesMs(h.opt.nets),
			"promote_batch": h.tools.batch, "idle": h.opt.idle, "idle_wait": h.opt.idleWait.String(),
		},
		"images": map[string]any{
			"big":          h.imgs.big,
			"fleet_images": len(h.imgs.fleet), "fleet_layer_bytes": h.imgs.fleetBytes,
		},
		"summaries": sums,
		"runs":      h.runs,
		"phases":    h.traces,
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.opt.out, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	md := h.markdown(sums)
	if err := os.WriteFile(filepath.Join(h.opt.out, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	logf("wrote %s and %s", filepath.Join(h.opt.out, "results.json"), filepath.Join(h.opt.out, "results.md"))
	failed := 0
	for _, r := range h.runs {
		if r.Err != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs failed (see the Failures section of results.md)", failed, len(h.runs))
	}
	return nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func latenciesMs(nets []netCase) []int64 {
	out := make([]int64, len(nets))
	for i, n := range nets {
		out[i] = n.latency.Milliseconds()
	}
	return out
}
