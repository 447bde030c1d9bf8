package promote

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// pipelineConfig parses a configuration whose environments are given as
// name: from pairs ("" for a push-fed one), in order.
func pipelineConfig(t *testing.T, envs ...string) *config.Config {
	t.Helper()
	y := "version: 1\nledger: ledger.db\nenvironments:\n"
	for i := 0; i+1 < len(envs); i += 2 {
		y += "  - name: " + envs[i] + "\n    repository: reg.example/" + envs[i] + "/{app}\n    tags: mutable\n"
		if envs[i+1] != "" {
			y += "    from: " + envs[i+1] + "\n"
		}
	}
	cfg, err := config.Parse("environments.yaml", []byte(y))
	require.NoError(t, err)
	return cfg
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func rec(kind ledger.Kind, app, env, digest string, seq int64, when string) ledger.Record {
	return ledger.Record{Kind: kind, App: app, Env: env, Digest: digest, Seq: seq, Time: at(when)}
}

func secs(d time.Duration) *float64 { f := d.Seconds(); return &f }

const day = 24 * time.Hour

// The window runs over a year end: 2026 has 53 ISO weeks, and 1-3
// January 2027 still belong to 2026-W53.
var (
	pipeSince = at("2026-12-21T00:00:00Z") // a Monday, 2026-W52
	pipeUntil = at("2027-01-11T00:00:00Z") // a Monday, 2027-W02, excluded
)

// pipelineRecords is a ledger of web and api in dev -> test -> prod.
func pipelineRecords() []ledger.Record {
	P, R, X := ledger.KindPromotion, ledger.KindRollback, ledger.KindRejected
	return []ledger.Record{
		// web in test
		rec(P, "web", "test", "d0", 1, "2026-12-01T00:00:00Z"),
		rec(P, "web", "test", "d1", 2, "2026-12-10T00:00:00Z"),
		rec(X, "web", "test", "dx", 3, "2026-12-20T23:59:59Z"),           // before the window
		rec(P, "web", "test", "d5", 4, "2026-12-21T00:00:00Z"),           // since: inside
		rec(P, "web", "test", "d2", 5, "2026-12-23T09:00:00Z"),           // d2's earliest
		rec(P, "web", "test", "d2", 6, "2026-12-29T09:00:00Z"),           // again: not its lead time
		rec(P, "web", "test", "d3", 7, "2027-01-05T00:00:00Z"),           // never reaches prod
		rec(P, "web", "test", "d6", 8, "2027-01-10T23:59:59.999Z"),       // last instant inside
		rec(P, "web", "test", "d7", 9, "2027-01-11T00:00:00Z"),           // until: outside
		rec("deletion", "web", "test", "d8", 10, "2027-01-06T00:00:00Z"), // unknown kind
		// web in prod
		rec(P, "web", "prod", "d0", 1, "2026-12-15T00:00:00Z"), // before the window: no lead time
		rec(P, "web", "prod", "d1", 2, "2026-12-22T10:00:00Z"), // lead 12d 10h
		rec(X, "web", "prod", "d3", 3, "2026-12-30T00:00:00Z"),
		rec(P, "web", "prod", "d2", 4, "2027-01-02T09:00:00Z"), // lead 10d, 2026-W53
		rec(R, "web", "prod", "d1", 5, "2027-01-02T10:30:00Z"), // restored in 1h 30m
		// api in test: promoted, then rolled back 45m later
		rec(P, "api", "test", "e1", 1, "2026-12-20T00:00:00Z"),
		rec(P, "api", "test", "e2", 2, "2026-12-28T12:00:00Z"),
		rec(R, "api", "test", "e1", 3, "2026-12-28T12:45:00Z"),
		// release control, an unknown and a push-fed environment: no deployments
		rec(ledger.KindFreeze, ledger.AllApps, "prod", "", 1, "2026-12-24T00:00:00Z"),
		rec(ledger.KindUnfreeze, ledger.AllApps, "prod", "", 2, "2026-12-25T00:00:00Z"),
		rec(ledger.KindFreeze, ledger.AllApps, ledger.AllEnvs, "", 1, "2027-01-06T00:00:00Z"),
		rec(ledger.KindFreeze, ledger.AllApps, "test", "", 1, "2027-01-11T00:00:00Z"), // until: outside
		rec(ledger.KindRevocation, "web", ledger.AllEnvs, "d2", 1, "2027-01-03T00:00:00Z"),
		rec(P, "web", "staging", "d2", 1, "2026-12-30T00:00:00Z"),
		rec(P, "web", "dev", "d2", 1, "2026-12-30T00:00:00Z"),
	}
}

func TestPipelineFiguresOverAYearEnd(t *testing.T) {
	cfg := pipelineConfig(t, "dev", "", "test", "dev", "prod", "test")
	week := func(name, start string, p, r int) PipelineWeek {
		return PipelineWeek{Week: name, Start: at(start), Promotions: p, Rollbacks: r}
	}
	testRate, prodRate := 1.0/6, 0.5
	want := PipelineFigures{Since: pipeSince, Until: pipeUntil,
		Environments: []PipelineEnvFigures{
			{Env: "test", From: "dev", Promotions: 6, Rollbacks: 1, RollbackRate: &testRate, Refused: 0, Freezes: 1,
				Weeks: []PipelineWeek{
					week("2026-W52", "2026-12-21T00:00:00Z", 2, 0),
					week("2026-W53", "2026-12-28T00:00:00Z", 2, 1),
					week("2027-W01", "2027-01-04T00:00:00Z", 2, 0)},
				TimeToRestore: PipelineDurations{Count: 1, MedianSeconds: secs(45 * time.Minute), P90Seconds: secs(45 * time.Minute), MaxSeconds: secs(45 * time.Minute)}},
			{Env: "prod", From: "test", Promotions: 2, Rollbacks: 1, RollbackRate: &prodRate, Refused: 1, Freezes: 2,
				Weeks: []PipelineWeek{
					week("2026-W52", "2026-12-21T00:00:00Z", 1, 0),
					week("2026-W53", "2026-12-28T00:00:00Z", 1, 1),
					week("2027-W01", "2027-01-04T00:00:00Z", 0, 0)},
				TimeToRestore: PipelineDurations{Count: 1, MedianSeconds: secs(90 * time.Minute), P90Seconds: secs(90 * time.Minute), MaxSeconds: secs(90 * time.Minute)}},
		},
		LeadTimes: []PipelineLeadTime{{Env: "prod", From: "test", PipelineDurations: PipelineDurations{Count: 2,
			MedianSeconds: secs(11*day + 5*time.Hour), P90Seconds: secs(12*day + 10*time.Hour), MaxSeconds: secs(12*day + 10*time.Hour)}}},
	}
	recs := pipelineRecords()
	assert.Equal(t, want, pipelineFigures(cfg, recs, pipeSince, pipeUntil))

	// In any order, and with the window given in another zone.
	slices.Reverse(recs)
	berlin := time.FixedZone("CET", 3600)
	assert.Equal(t, want, pipelineFigures(cfg, recs, pipeSince.In(berlin), pipeUntil.In(berlin)))
}

func TestPipelineLeadTimeStartsAtTheFirstPromotedEnvironment(t *testing.T) {
	P := ledger.KindPromotion
	recs := []ledger.Record{
		rec(P, "web", "test", "d1", 1, "2027-01-04T00:00:00Z"),
		rec(P, "web", "stage", "d1", 1, "2027-01-05T00:00:00Z"),
		rec(P, "web", "prod", "d1", 1, "2027-01-06T06:00:00Z"),
		rec(P, "api", "prod", "d1", 1, "2027-01-06T06:00:00Z"), // api never was in test
		rec(P, "web", "qa", "d1", 1, "2027-01-06T00:00:00Z"),
	}
	// qa is a leaf fed from dev: the ledger sees nothing before it.
	cfg := pipelineConfig(t, "dev", "", "test", "dev", "stage", "test", "prod", "stage", "qa", "dev")
	p := pipelineFigures(cfg, recs, pipeSince, pipeUntil)
	require.Len(t, p.LeadTimes, 1)
	assert.Equal(t, PipelineLeadTime{Env: "prod", From: "test", PipelineDurations: PipelineDurations{Count: 1,
		MedianSeconds: secs(2*day + 6*time.Hour), P90Seconds: secs(2*day + 6*time.Hour), MaxSeconds: secs(2*day + 6*time.Hour)}}, p.LeadTimes[0])

	// A rollback with no earlier record of its chain has nothing to measure from.
	cfg = pipelineConfig(t, "dev", "", "test", "dev")
	p = pipelineFigures(cfg, []ledger.Record{rec(ledger.KindRollback, "web", "test", "d1", 3, "2027-01-04T00:00:00Z")}, pipeSince, pipeUntil)
	assert.Empty(t, p.LeadTimes)
	assert.Equal(t, 1, p.Environments[0].Rollbacks)
	assert.Equal(t, PipelineDurations{}, p.Environments[0].TimeToRestore)
}
