package promote

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

func TestPipelineFiguresOnNothingMeasureNothing(t *testing.T) {
	cfg := pipelineConfig(t, "dev", "", "test", "dev", "prod", "test")
	for name, p := range map[string]PipelineFigures{
		"no records":     pipelineFigures(cfg, nil, pipeSince, pipeUntil),
		"records before": pipelineFigures(cfg, pipelineRecords(), at("2020-01-01T00:00:00Z"), at("2020-02-01T00:00:00Z")),
	} {
		t.Run(name, func(t *testing.T) {
			require.Len(t, p.Environments, 2)
			for _, e := range p.Environments {
				assert.Zero(t, e.Promotions+e.Rollbacks+e.Refused+e.Freezes)
				assert.Nil(t, e.RollbackRate)
				assert.NotEmpty(t, e.Weeks)
			}
			require.Len(t, p.LeadTimes, 1)
			b, err := json.Marshal(p)
			require.NoError(t, err)
			for _, absent := range []string{"medianSeconds", "p90Seconds", "maxSeconds", "rollbackRate", "weeksClipped", "null"} {
				assert.NotContains(t, string(b), absent)
			}
		})
	}

	// An empty or inverted window, no configuration, odd records: no panic, no figure.
	odd := append(pipelineRecords(), ledger.Record{}, ledger.Record{Kind: ledger.KindRollback, Env: "prod"},
		ledger.Record{Kind: ledger.KindRollback, App: "web", Env: "prod", Seq: 9, Time: at("2027-01-09T00:00:00Z")},
		ledger.Record{Kind: ledger.KindRollback, App: "web", Env: "prod", Seq: 10, Time: at("2027-01-08T00:00:00Z")})
	for _, w := range [][2]time.Time{{pipeUntil, pipeSince}, {pipeSince, pipeSince}} {
		p := pipelineFigures(cfg, odd, w[0], w[1])
		assert.Empty(t, p.Environments[1].Weeks)
		assert.Zero(t, p.Environments[1].Promotions)
		assert.Zero(t, p.LeadTimes[0].Count)
	}
	assert.Empty(t, pipelineFigures(nil, odd, pipeSince, pipeUntil).Environments)
	assert.Empty(t, pipelineFigures(&config.Config{Environments: []*config.Environment{nil, {Name: "a", From: "a"}}}, odd, pipeSince, pipeUntil).LeadTimes)

	// A rollback timed before the record it follows (a skewed clock) is
	// not a time to restore; the one a day later is.
	p := pipelineFigures(cfg, odd, pipeSince, pipeUntil)
	assert.Equal(t, 3, p.Environments[1].Rollbacks)
	assert.Equal(t, 2, p.Environments[1].TimeToRestore.Count)
	assert.Equal(t, (6*day + 13*time.Hour + 30*time.Minute).Seconds(), *p.Environments[1].TimeToRestore.MaxSeconds)
}

func TestPipelineWeeksOfALongWindowAreClipped(t *testing.T) {
	cfg := pipelineConfig(t, "dev", "", "test", "dev")
	p := pipelineFigures(cfg, pipelineRecords(), time.Time{}, pipeUntil)
	e := p.Environments[0]
	assert.True(t, e.WeeksClipped)
	require.Len(t, e.Weeks, maxPipelineWeeks)
	assert.Equal(t, "2027-W01", e.Weeks[len(e.Weeks)-1].Week, "the week of the last instant before until")
	assert.Equal(t, 9, e.Promotions, "the totals cover the whole window")
}

func TestPipelineISOWeeks(t *testing.T) {
	for _, c := range []struct{ t, week, start string }{
		{"2026-12-31T23:59:59Z", "2026-W53", "2026-12-28T00:00:00Z"},
		{"2027-01-03T12:00:00Z", "2026-W53", "2026-12-28T00:00:00Z"},
		{"2027-01-04T00:00:00Z", "2027-W01", "2027-01-04T00:00:00Z"},
		{"2024-12-30T00:00:00Z", "2025-W01", "2024-12-30T00:00:00Z"},
		{"2026-12-07T01:00:00+02:00", "2026-W49", "2026-11-30T00:00:00Z"}, // Sunday 23:00 UTC
	} {
		assert.Equal(t, c.week, isoWeekName(weekStart(at(c.t))), c.t)
		assert.Equal(t, at(c.start), weekStart(at(c.t)), c.t)
	}
}

func TestPipelineDurationSummaries(t *testing.T) {
	m := time.Minute
	for _, c := range []struct {
		ds               []time.Duration
		median, p90, max time.Duration
	}{
		{[]time.Duration{5 * m}, 5 * m, 5 * m, 5 * m},
		{[]time.Duration{9 * m, 1 * m}, 5 * m, 9 * m, 9 * m},
		{[]time.Duration{3 * m, 1 * m, 2 * m}, 2 * m, 3 * m, 3 * m},
		{[]time.Duration{10 * m, 9 * m, 8 * m, 7 * m, 6 * m, 5 * m, 4 * m, 3 * m, 2 * m, 1 * m}, 5*m + 30*time.Second, 9 * m, 10 * m},
	} {
		s := summarise(c.ds)
		assert.Equal(t, PipelineDurations{Count: len(c.ds), MedianSeconds: secs(c.median), P90Seconds: secs(c.p90), MaxSeconds: secs(c.max)}, s)
	}
	assert.Equal(t, PipelineDurations{}, summarise(nil))
}

func TestPipelineJSONFieldNames(t *testing.T) {
	cfg := pipelineConfig(t, "dev", "", "test", "dev", "prod", "test")
	b, err := json.Marshal(pipelineFigures(cfg, pipelineRecords(), pipeSince, pipeUntil))
	require.NoError(t, err)
	for _, f := range []string{`"since":"2026-12-21T00:00:00Z"`, `"until":"2027-01-11T00:00:00Z"`, `"environments":[`, `"env":"test"`, `"from":"dev"`,
		`"promotions":6`, `"rollbacks":1`, `"rollbackRate":0.5`, `"refused":1`, `"freezes":2`,
		`"weeks":[{"week":"2026-W52","start":"2026-12-21T00:00:00Z","promotions":2,"rollbacks":0}`,
		`"timeToRestore":{"count":1,"medianSeconds":5400,"p90Seconds":5400,"maxSeconds":5400}`,
		`"leadTimes":[{"env":"prod","from":"test","count":2,"medianSeconds":968400,"p90Seconds":1072800,"maxSeconds":1072800}]`} {
		assert.Contains(t, string(b), f)
	}
}
