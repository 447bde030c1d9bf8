package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// span is a request from a ms to b ms after t0.
func span(a, b int) request {
	return request{Start: t0.Add(time.Duration(a) * time.Millisecond), End: t0.Add(time.Duration(b) * time.Millisecond)}
}

func TestCriticalPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rs    []request
		want  int
		chain []int
	}{
		{"none", nil, 0, nil},
		{"one", []request{span(0, 5)}, 1, []int{0}},
		{"in turn", []request{span(20, 30), span(0, 10), span(10, 20)}, 3, []int{1, 2, 0}},
		{"all at once", []request{span(0, 10), span(1, 11), span(2, 12)}, 1, nil},
		// 1 -> 2 -> 3 or 4 (2 ends at 8); 0 -> 3 is only 2 long
		{"mixed", []request{span(0, 10), span(0, 5), span(5, 8), span(10, 20), span(9, 30)}, 3, nil},
		// a request that ends as the next starts on its connection waited on it
		{"touching", []request{span(0, 10), span(10, 20), span(20, 25)}, 3, []int{0, 1, 2}},
		// a request of no duration is taken to last 1 ns
		{"instant", []request{span(0, 10), span(10, 10), span(10, 15), span(11, 15)}, 3, []int{0, 1, 3}},
		// a fleet: 4 workers of 3 requests in turn, staggered: still 3
		{"workers", []request{span(0, 10), span(10, 20), span(20, 30), span(1, 11), span(11, 21), span(21, 31),
			span(2, 12), span(12, 22), span(22, 32), span(3, 13), span(13, 23), span(23, 33)}, 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, chain := criticalPath(tc.rs)
			if got != tc.want || len(chain) != got {
				t.Fatalf("criticalPath = %d, chain %v; want %d", got, chain, tc.want)
			}
			if tc.chain != nil && !equal(chain, tc.chain) {
				t.Fatalf("chain %v, want %v", chain, tc.chain)
			}
			checkChain(t, tc.rs, chain)
		})
	}
}

// TestCriticalPathRandom checks the O(n log n) walk against the O(n²)
// definition on random requests.
func TestCriticalPathRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		n := r.IntN(60)
		rs := make([]request, n)
		for i := range rs {
			a := r.IntN(200)
			rs[i] = span(a, a+r.IntN(30)) // some last 0 ms
		}
		got, chain := criticalPath(rs)
		if want := bruteChain(rs); got != want {
			t.Fatalf("round %d: criticalPath = %d, want %d", round, got, want)
		}
		checkChain(t, rs, chain)
	}
}

// bruteChain is the longest chain by definition: dp over requests sorted
// by start, i before j when i ends by j's start (and takes time).
func bruteChain(rs []request) int {
	end := func(i int) time.Time {
		if rs[i].End.After(rs[i].Start) {
			return rs[i].End
		}
		return rs[i].Start.Add(time.Nanosecond)
	}
	best := make([]int, len(rs))
	longest := 0
	for changed := true; changed; { // relax until stable: no order needed
		changed = false
		for j := range rs {
			b := 1
			for i := range rs {
				if i != j && !end(i).After(rs[j].Start) && best[i]+1 > b {
					b = best[i] + 1
				}
			}
			if b != best[j] {
				best[j], changed = b, true
			}
			longest = max(longest, b)
		}
	}
	return longest
}

func checkChain(t *testing.T, rs []request, chain []int) {
	t.Helper()
	for k := 1; k < len(chain); k++ {
		prev, next := rs[chain[k-1]], rs[chain[k]]
		if next.Start.Before(prev.End) || !next.Start.After(prev.Start) {
			t.Fatalf("chain %v: step %d (%v-%v) does not follow step %d (%v-%v)", chain, k+1,
				next.Start.Sub(t0), next.End.Sub(t0), k, prev.Start.Sub(t0), prev.End.Sub(t0))
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShortPath(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	for in, want := range map[string]string{
		"/v2/dev/big/blobs/sha256:" + hex:                                        "/v2/dev/big/blobs/sha256:0123456789ab…",
		"/v2/dev/big/manifests/sha256-" + hex + ".sig":                           "/v2/dev/big/manifests/sha256-0123456789ab….sig",
		"/v2/test/big/blobs/uploads/3c4096a3-1b2c-4d5e-8f90-0123456789ab?_state": "/v2/test/big/blobs/uploads/3c4096a3…?_state",
		"/v2/": "/v2/",
	} {
		if got := shortPath(in); got != want {
			t.Errorf("shortPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteTimeline(t *testing.T) {
	rs := []request{span(10, 20), span(0, 10), span(12, 15)}
	for i, p := range []string{"/v2/dev/a/manifests/v1", "/v2/", "/v2/dev/a/blobs/x"} {
		rs[i].Registry, rs[i].Conn, rs[i].Method, rs[i].Path, rs[i].Status = "source", int64(i+1), "GET", p, 200
	}
	n, chain := criticalPath(rs)
	path := filepath.Join(t.TempDir(), "t.txt")
	if err := writeTimeline(path, "title", t0, rs, chain); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if n != 2 || len(lines) != 3 {
		t.Fatalf("chain %d, lines:\n%s", n, b)
	}
	for i, want := range []string{"*1 ", "*2 ", ""} { // sorted by start: /v2/, manifest, blob
		if want != "" && !strings.HasPrefix(lines[i], want) || want == "" && strings.HasPrefix(lines[i], "*") {
			t.Errorf("line %d = %q, want mark %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[0], "GET /v2/") || !strings.Contains(lines[1], "manifests/v1") {
		t.Errorf("order:\n%s", b)
	}
}
