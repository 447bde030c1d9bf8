package promote

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// PipelineFigures are the pipeline (DORA) figures of a report over the
// window [Since, Until), read from the ledger only: how often each
// environment is deployed to and rolled back, how long a digest takes from
// the first promoted environment to the last, and how long a rollback took
// to come. docs/report-pipeline.md documents the schema and each definition.
type PipelineFigures struct {
	Since time.Time `json:"since"` // inclusive, UTC
	Until time.Time `json:"until"` // exclusive, UTC
	// Environments are those promote promotes into (those with a from), in
	// the configuration's order.
	Environments []PipelineEnvFigures `json:"environments"`
	// LeadTimes has one entry per last environment of the pipeline (one
	// nothing is fed from) that lies at least one hop past the first
	// promoted environment.
	LeadTimes []PipelineLeadTime `json:"leadTimes"`
}

// PipelineEnvFigures are one environment's figures in the window.
type PipelineEnvFigures struct {
	Env        string `json:"env"`
	From       string `json:"from"`
	Promotions int    `json:"promotions"`
	Rollbacks  int    `json:"rollbacks"`
	// RollbackRate is Rollbacks / Promotions; absent without promotions.
	RollbackRate *float64 `json:"rollbackRate,omitempty"`
	// Refused counts rejected attempts: refusals are not deployments.
	Refused int `json:"refused"`
	// Freezes counts freezes of the environment (or of all of them).
	Freezes int `json:"freezes"`
	// Weeks are the ISO weeks (UTC) the window touches, in order, zeros
	// included; the last maxPipelineWeeks of them when it touches more,
	// and then WeeksClipped is set (the totals above still cover it all).
	Weeks        []PipelineWeek `json:"weeks"`
	WeeksClipped bool           `json:"weeksClipped,omitempty"`
	// TimeToRestore measures each rollback in the window from the record
	// that set what it rolled back away from.
	TimeToRestore PipelineDurations `json:"timeToRestore"`
}

// PipelineWeek counts one environment's deployments in one ISO week.
type PipelineWeek struct {
	Week       string    `json:"week"`  // ISO 8601 week, e.g. 2026-W49
	Start      time.Time `json:"start"` // its Monday, 00:00 UTC
	Promotions int       `json:"promotions"`
	Rollbacks  int       `json:"rollbacks"`
}

// PipelineLeadTime is the lead time into one last environment: for each
// digest whose first promotion into Env falls in the window, the time from
// its earliest promotion into From, the first environment the ledger sees
// it in (it does not see pushes, nor commits).
type PipelineLeadTime struct {
	Env  string `json:"env"`
	From string `json:"from"`
	PipelineDurations
}

// PipelineDurations summarises measured durations, in seconds. Median, P90
// and Max are absent when Count is 0.
type PipelineDurations struct {
	Count         int      `json:"count"`
	MedianSeconds *float64 `json:"medianSeconds,omitempty"`
	P90Seconds    *float64 `json:"p90Seconds,omitempty"` // nearest rank
	MaxSeconds    *float64 `json:"maxSeconds,omitempty"`
}

// maxPipelineWeeks bounds the weeks listed per environment (ten years).
const maxPipelineWeeks = 522

// pipelineFigures computes the pipeline figures of cfg's environments from recs (any order; the
// records the ledger holds, already checked), over [since, until).
func pipelineFigures(cfg *config.Config, recs []ledger.Record, since, until time.Time) PipelineFigures {
	since, until = since.UTC(), until.UTC()
	p := PipelineFigures{Since: since, Until: until, Environments: []PipelineEnvFigures{}, LeadTimes: []PipelineLeadTime{}}
	if cfg == nil {
		return p
	}
	in := func(t time.Time) bool { return !t.Before(since) && t.Before(until) }
	weeks, clipped := isoWeeks(since, until)
	index := map[string]int{} // env name -> index in p.Environments
	for _, e := range cfg.Environments {
		if e == nil || e.From == "" {
			continue
		}
		if _, dup := index[e.Name]; dup {
			continue
		}
		index[e.Name] = len(p.Environments)
		p.Environments = append(p.Environments, PipelineEnvFigures{Env: e.Name, From: e.From,
			Weeks: slices.Clone(weeks), WeeksClipped: clipped})
	}
	type chainKey struct{ app, env string }
	chains := map[chainKey][]ledger.Record{}
	for _, r := range recs {
		if r.Kind == ledger.KindFreeze && in(r.Time) {
			for i := range p.Environments {
				if r.Env == ledger.AllEnvs || r.Env == p.Environments[i].Env {
					p.Environments[i].Freezes++
				}
			}
		}
		i, ok := index[r.Env]
		if !ok || r.Kind.Control() || r.App == ledger.AllApps || r.App == "" {
			continue
		}
		k := chainKey{r.App, r.Env}
		chains[k] = append(chains[k], r)
		if !in(r.Time) {
			continue
		}
		ef := &p.Environments[i]
		w := weekAt(ef.Weeks, r.Time)
		switch r.Kind {
		case ledger.KindPromotion:
			ef.Promotions++
			if w != nil {
				w.Promotions++
			}
		case ledger.KindRollback:
			ef.Rollbacks++
			if w != nil {
				w.Rollbacks++
			}
		case ledger.KindRejected:
			ef.Refused++
		}
	}
	restore := make([][]time.Duration, len(p.Environments))
	for k, chain := range chains {
		slices.SortStableFunc(chain, func(a, b ledger.Record) int {
			return cmp.Or(cmp.Compare(a.Seq, b.Seq), a.Time.Compare(b.Time))
		})
		var last *ledger.Record // the chain's current: its latest promotion or rollback
		for j := range chain {
			r := &chain[j]
			if r.Kind != ledger.KindPromotion && r.Kind != ledger.KindRollback {
				continue
			}
			if r.Kind == ledger.KindRollback && last != nil && in(r.Time) && !r.Time.Before(last.Time) {
				i := index[k.env]
				restore[i] = append(restore[i], r.Time.Sub(last.Time))
			}
			last = r
		}
	}
	for i := range p.Environments {
		ef := &p.Environments[i]
		if ef.Promotions > 0 {
			rate := float64(ef.Rollbacks) / float64(ef.Promotions)
			ef.RollbackRate = &rate
		}
		ef.TimeToRestore = summarise(restore[i])
	}
	p.LeadTimes = leadTimes(cfg, recs, in)
	return p
}

// isoWeeks lists the ISO weeks that [since, until) touches, the last
// maxPipelineWeeks of them when there are more (clipped).
func isoWeeks(since, until time.Time) (weeks []PipelineWeek, clipped bool) {
	weeks = []PipelineWeek{}
	if !since.Before(until) {
		return weeks, false
	}
	first, last := weekStart(since), weekStart(until.Add(-time.Nanosecond))
	n := (last.Unix()-first.Unix())/(7*24*3600) + 1
	if n > maxPipelineWeeks {
		first, n, clipped = last.AddDate(0, 0, -7*(maxPipelineWeeks-1)), maxPipelineWeeks, true
	}
	for i := range n {
		start := first.AddDate(0, 0, 7*int(i))
		weeks = append(weeks, PipelineWeek{Week: isoWeekName(start), Start: start})
	}
	return weeks, clipped
}

// weekStart is the Monday, 00:00 UTC, of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// isoWeekName names t's ISO week as 2026-W49.
func isoWeekName(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// weekAt returns the week of weeks that holds t, or nil (a clipped week).
func weekAt(weeks []PipelineWeek, t time.Time) *PipelineWeek {
	start := weekStart(t)
	i, ok := slices.BinarySearchFunc(weeks, start, func(w PipelineWeek, s time.Time) int { return w.Start.Compare(s) })
	if !ok {
		return nil
	}
	return &weeks[i]
}
