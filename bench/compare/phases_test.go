package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Requests count in the phase they started in, a request between two
// phases in the next; before the first phase is the process's start.
func TestLayPhases(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	log := "time=2026-12-05T01:00:00.100Z level=DEBUG msg=\"phase done\" phase=resolve app=big env=test seconds=0.05\n" +
		"time=2026-12-05T01:00:00.300Z level=INFO msg=\"something else\"\n" +
		"time=2026-12-05T01:00:00.300Z level=DEBUG msg=\"phase done\" phase=inspect app=big env=test seconds=0.19\n"
	path := filepath.Join(t.TempDir(), "phases.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	phases, err := readPhases(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 2 || phases[0].name != "resolve" || !phases[0].start.Equal(at(50)) || !phases[1].start.Equal(at(110)) {
		t.Fatalf("phases: %+v", phases)
	}
	req := func(start, end int) request { return request{Start: at(start), End: at(end)} }
	reqs := []request{
		req(10, 20),   // process start
		req(60, 80),   // resolve
		req(80, 95),   // resolve, after the one before: 2 round trips
		req(105, 120), // between resolve and inspect: inspect's
		req(120, 200), req(121, 190),
		req(310, 330), // after the last phase
	}
	rows := layPhases(t0, at(400), phases, reqs)
	want := []struct {
		requests, trips int
	}{{1, 1}, {2, 2}, {3, 2}, {1, 1}}
	if len(rows) != len(want) {
		t.Fatalf("rows: %+v", rows)
	}
	for i, w := range want {
		if rows[i].Requests != w.requests || rows[i].RoundTrips != w.trips {
			t.Errorf("row %d (%s): %d requests, %d round trips; want %d, %d", i, rows[i].Phase, rows[i].Requests, rows[i].RoundTrips, w.requests, w.trips)
		}
	}
	if rows[0].Ms != 50 || rows[3].StartMs != 300 {
		t.Errorf("process start %v ms, after the last phase from %v ms", rows[0].Ms, rows[3].StartMs)
	}
}
