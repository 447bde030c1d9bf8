package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// criticalPath is the length of the longest chain of requests in which
// each request starts no earlier than the one before it in the chain ended
// (it waited on it, or could have), over every registry's requests on one
// clock, and the indices into rs of one such chain, in order. A request
// that ends before it starts is taken to last 1 ns. O(n log n).
//
// On a network with a round-trip time R this chain costs at least its
// length times R, however fast the client, the registries and the links
// are: the round trips a tool's design puts on its critical path.
func criticalPath(rs []request) (int, []int) {
	n := len(rs)
	if n == 0 {
		return 0, nil
	}
	end := func(i int) time.Time {
		if e := rs[i].End; e.After(rs[i].Start) {
			return e
		}
		return rs[i].Start.Add(time.Nanosecond)
	}
	byStart, byEnd := make([]int, n), make([]int, n)
	for i := range rs {
		byStart[i], byEnd[i] = i, i
	}
	slices.SortStableFunc(byStart, func(a, b int) int { return rs[a].Start.Compare(rs[b].Start) })
	slices.SortStableFunc(byEnd, func(a, b int) int { return end(a).Compare(end(b)) })
	length, pred := make([]int, n), make([]int, n)
	best, bestAt := 0, -1 // the longest chain among the requests ended so far
	k := 0
	for _, j := range byStart {
		// every request ending by j's start started before j (it lasts
		// at least 1 ns), so its chain length is known
		for k < n && !end(byEnd[k]).After(rs[j].Start) {
			if i := byEnd[k]; length[i] > best {
				best, bestAt = length[i], i
			}
			k++
		}
		length[j], pred[j] = best+1, bestAt
	}
	last := 0
	for i := range rs {
		if length[i] > length[last] {
			last = i
		}
	}
	chain := make([]int, 0, length[last])
	for i := last; i >= 0; i = pred[i] {
		chain = append(chain, i)
	}
	slices.Reverse(chain)
	return length[last], chain
}

var (
	digestRE = regexp.MustCompile(`sha256([:-])([0-9a-f]{12})[0-9a-f]{52}`)
	uploadRE = regexp.MustCompile(`(/blobs/uploads/)([0-9a-zA-Z-]{8})[0-9a-zA-Z-]{20,}`)
)

// shortPath shortens digests to 12 hex digits and upload session ids to 8
// characters, so a timeline line fits a screen.
func shortPath(p string) string {
	p = digestRE.ReplaceAllString(p, "sha256$1$2…")
	return uploadRE.ReplaceAllString(p, "$1$2…")
}

// writeTimeline writes one line per request, sorted by start: offset from
// t0 and duration in ms, registry, connection, status, bytes each way, the
// request line; the requests of one longest chain are marked with their
// step and the time the step waited after the one before it ended.
func writeTimeline(path, title string, t0 time.Time, rs []request, chain []int) error {
	var b strings.Builder
	step := map[int]int{}
	for s, i := range chain {
		step[i] = s + 1
	}
	order := make([]int, len(rs))
	conns := map[string]bool{}
	count := map[string]int{}
	for i, r := range rs {
		order[i] = i
		conns[fmt.Sprint(r.Registry, r.Conn)] = true
		count[r.Registry]++
	}
	slices.SortStableFunc(order, func(a, c int) int { return rs[a].Start.Compare(rs[c].Start) })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(&b, "# %s\n", title)
	fmt.Fprintf(&b, "# %d requests (source %d, target %d) on %d connections; critical path: %d round trips, marked * with their step\n",
		len(rs), count["source"], count["target"], len(conns), len(chain))
	fmt.Fprintf(&b, "# times in ms from the tool's start; wait: how long a step started after the step before it ended\n")
	fmt.Fprintf(&b, "# digests shortened to 12 hex digits, upload session ids to 8 characters, query values dropped\n#\n")
	fmt.Fprintf(&b, "%-6s %9s %8s %7s  %-6s %5s %6s %9s %9s  %s\n", "# step", "start", "duration", "wait", "reg", "conn", "status", "up", "down", "request")
	for _, i := range order {
		r := rs[i]
		mark, wait := "", ""
		if s, ok := step[i]; ok {
			mark = fmt.Sprintf("*%d", s)
			if s > 1 {
				wait = ms(r.Start.Sub(rs[chain[s-2]].End))
			} else {
				wait = ms(r.Start.Sub(t0))
			}
		}
		status := "-"
		if r.Status != 0 {
			status = fmt.Sprint(r.Status)
		}
		fmt.Fprintf(&b, "%-6s %9s %8s %7s  %-6s %5d %6s %9s %9s  %s %s\n", mark, ms(r.Start.Sub(t0)), ms(r.End.Sub(r.Start)), wait,
			r.Registry, r.Conn, status, human(r.Up), human(r.Down), r.Method, shortPath(r.Path))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
