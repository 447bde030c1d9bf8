package promote

import (
	"slices"
	"time"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// leadTimes measures, for each last environment at least one hop past the
// first promoted environment on its path, each digest whose first
// promotion into it falls in the window (in reports whether it does).
func leadTimes(cfg *config.Config, recs []ledger.Record, in func(time.Time) bool) []PipelineLeadTime {
	type appDigest struct{ app, digest string }
	// first promotion of each app's digest into each environment
	first := map[string]map[appDigest]time.Time{}
	for _, r := range recs {
		if r.Kind != ledger.KindPromotion || r.App == ledger.AllApps || r.App == "" || r.Digest == "" {
			continue
		}
		m := first[r.Env]
		if m == nil {
			m = map[appDigest]time.Time{}
			first[r.Env] = m
		}
		k := appDigest{r.App, r.Digest}
		if t, ok := m[k]; !ok || r.Time.Before(t) {
			m[k] = r.Time
		}
	}
	out := []PipelineLeadTime{}
	for _, leaf := range cfg.Environments {
		if leaf == nil || leaf.From == "" || feeds(cfg, leaf.Name) {
			continue
		}
		start := firstPromoted(cfg, leaf)
		if start == nil || start == leaf {
			continue
		}
		var ds []time.Duration
		for k, at := range first[leaf.Name] {
			began, ok := first[start.Name][k]
			if in(at) && ok && !began.After(at) {
				ds = append(ds, at.Sub(began))
			}
		}
		out = append(out, PipelineLeadTime{Env: leaf.Name, From: start.Name, PipelineDurations: summarise(ds)})
	}
	return out
}

// firstPromoted follows e's from links back to the environment fed from a
// first (push-fed) one; nil when the links do not lead there.
func firstPromoted(cfg *config.Config, e *config.Environment) *config.Environment {
	for range cfg.Environments {
		from := envNamed(cfg, e.From)
		switch {
		case from == nil:
			return nil
		case from.From == "":
			return e
		}
		e = from
	}
	return nil // a cycle
}

// envNamed is cfg's environment called name, or nil.
func envNamed(cfg *config.Config, name string) *config.Environment {
	for _, e := range cfg.Environments {
		if e != nil && e.Name == name {
			return e
		}
	}
	return nil
}

// feeds reports whether any environment is promoted from env.
func feeds(cfg *config.Config, env string) bool {
	return slices.ContainsFunc(cfg.Environments, func(e *config.Environment) bool { return e != nil && e.From == env })
}

// summarise gives the count, median, p90 (nearest rank) and max of ds.
func summarise(ds []time.Duration) PipelineDurations {
	s := PipelineDurations{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	secs := func(d time.Duration) *float64 { f := d.Seconds(); return &f }
	n := len(ds)
	median := ds[n/2]
	if n%2 == 0 {
		median = ds[n/2-1] + (ds[n/2]-ds[n/2-1])/2
	}
	p90 := ds[(9*n+9)/10-1] // rank ceil(0.9 n)
	s.MedianSeconds, s.P90Seconds, s.MaxSeconds = secs(median), secs(p90), secs(ds[n-1])
	return s
}
