package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// phaseRow is one phase of a promotion: when it ran, the requests that
// started in it and the round trips of their longest chain.
type phaseRow struct {
	Phase      string  `json:"phase"`
	StartMs    float64 `json:"start_ms"` // from the tool's start
	Ms         float64 `json:"ms"`
	Requests   int     `json:"requests"`
	RoundTrips int     `json:"round_trips"`
}

// phaseTrace is where one promotion's time went, by phase.
type phaseTrace struct {
	Network string     `json:"network"`
	Case    string     `json:"case"`
	Command string     `json:"command"`
	WallMs  float64    `json:"wall_ms"`
	Rows    []phaseRow `json:"phases"`
}

// tracePhases runs promote+gates once more on the cold case, untimed and
// with --verbose, and lays its phases (the debug lines "phase done",
// each with its end time and length) over the requests the proxies saw:
// each request counts in the phase it started in. Before the first phase
// is the process starting (configuration, keys, ledger); after the last,
// its exit.
func (h *harness) tracePhases() (*phaseTrace, error) {
	ct := contender{label: "promote+gates", tool: "promote", gates: true}
	rc, err := h.newRun(ct)
	if rc != nil {
		defer h.endRun(rc)
	}
	if err != nil {
		return nil, err
	}
	big, _ := h.bigApp(h.net)
	argv := h.argv(ct, rc, []copySpec{{"test", big, "v1"}}, 0)[0]
	logPath := filepath.Join(rc.dir, "phases.log")
	sh := append([]string{"/bin/sh", "-c", `exec "$0" --verbose "$@" 2>` + logPath}, argv...)
	if err := h.drain(rc); err != nil {
		return nil, err
	}
	h.src.proxy.takeRequests()
	rc.tgt.proxy.takeRequests()
	start := time.Now()
	p, err := run([][]string{sh}, rc.env, rc.dir, h.opt.uid, 1)
	if err != nil {
		return nil, err
	}
	if err := h.drain(rc); err != nil {
		return nil, err
	}
	reqs := append(h.src.proxy.takeRequests(), rc.tgt.proxy.takeRequests()...)
	phases, err := readPhases(logPath)
	if err != nil {
		return nil, err
	}
	t := &phaseTrace{Network: h.net.Name(), Case: "cold", Command: shellJoin(argv), WallMs: ms(p.wall)}
	t.Rows = layPhases(start, start.Add(p.wall), phases, reqs)
	return t, nil
}

type phaseSpan struct {
	name       string
	start, end time.Time
}

var phaseLine = regexp.MustCompile(`^time=(\S+) .*msg="phase done" phase=(\S+) .*seconds=([0-9.e-]+)`)

// readPhases reads the "phase done" lines of promote's --verbose log.
func readPhases(path string) ([]phaseSpan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []phaseSpan
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := phaseLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		end, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		secs, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, phaseSpan{name: m[2], start: end.Add(-time.Duration(secs * float64(time.Second))), end: end})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no \"phase done\" line (promote --verbose logs one per phase)", path)
	}
	return out, sc.Err()
}

// layPhases puts each request in the phase it started in (the log's
// times are to the millisecond: a request within 1 ms of a phase's end
// belongs to the next), with a row for the process's start before the
// first phase and one for everything after the last.
func layPhases(start, end time.Time, phases []phaseSpan, reqs []request) []phaseRow {
	spans := append([]phaseSpan{{name: "(process start: config, keys, ledger)", start: start, end: phases[0].start}}, phases...)
	spans = append(spans, phaseSpan{name: "(after the record: attest, exit)", start: phases[len(phases)-1].end, end: end})
	slices.SortStableFunc(reqs, func(a, b request) int { return a.Start.Compare(b.Start) })
	var rows []phaseRow
	for i, s := range spans {
		row := phaseRow{Phase: s.name, StartMs: ms(s.start.Sub(start)), Ms: ms(s.end.Sub(s.start))}
		var in []request
		for _, r := range reqs {
			from, to := s.start, s.end
			if i > 0 {
				from = spans[i-1].end
			}
			if i == len(spans)-1 {
				to = r.Start.Add(time.Nanosecond)
			}
			if !r.Start.Before(from) && r.Start.Before(to) {
				in = append(in, r)
			}
		}
		row.Requests = len(in)
		row.RoundTrips, _ = criticalPath(in)
		rows = append(rows, row)
	}
	return rows
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// phaseFigure renders a trace as a table and a bar per phase, placed on
// one time axis (one block per 20 ms).
func phaseFigure(b *strings.Builder, t *phaseTrace) {
	fmt.Fprintf(b, "\n### Where a promotion's time goes (%s, cold, promote+gates, one untimed run)\n\n", t.Network)
	fmt.Fprintf(b, "Command: `%s --verbose`; %.0f ms in all. Each request counts in the phase it started in (or, between two phases, the next); round trips: the longest chain of the phase's requests.\n\n", t.Command, t.WallMs)
	b.WriteString("| phase | starts at | time | requests | round trips |\n|---|---:|---:|---:|---:|\n")
	for _, r := range t.Rows {
		fmt.Fprintf(b, "| %s | %.0f ms | %.0f ms | %d | %d |\n", r.Phase, r.StartMs, r.Ms, r.Requests, r.RoundTrips)
	}
	b.WriteString("\n```\n")
	for _, r := range t.Rows {
		name := r.Phase
		if strings.HasPrefix(name, "(") {
			name = strings.SplitN(strings.Trim(name, "()"), ":", 2)[0]
		}
		lead := int(r.StartMs / 20)
		fmt.Fprintf(b, "%-14s %s%s %.0f ms, %d round trips\n", name, strings.Repeat(" ", lead), strings.Repeat("█", max(1, int(r.Ms/20+0.5))), r.Ms, r.RoundTrips)
	}
	b.WriteString("```\n")
}
