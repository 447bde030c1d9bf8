package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/promote"
)

func pipelineGoldenFigures() promote.PipelineFigures {
	f := func(v float64) *float64 { return &v }
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	weeks := func(counts ...int) []promote.PipelineWeek {
		names := []string{"2026-W52", "2026-W53", "2027-W01"}
		starts := []string{"2026-12-21T00:00:00Z", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"}
		var ws []promote.PipelineWeek
		for i := range names {
			ws = append(ws, promote.PipelineWeek{Week: names[i], Start: at(starts[i]), Promotions: counts[2*i], Rollbacks: counts[2*i+1]})
		}
		return ws
	}
	return promote.PipelineFigures{
		Since: at("2026-12-21T00:00:00Z"), Until: at("2027-01-11T00:00:00Z"),
		Environments: []promote.PipelineEnvFigures{
			{Env: "test", From: "dev", Promotions: 6, Rollbacks: 1, RollbackRate: f(1.0 / 6), Freezes: 1, Weeks: weeks(2, 0, 2, 1, 2, 0),
				TimeToRestore: promote.PipelineDurations{Count: 1, MedianSeconds: f(2700), P90Seconds: f(2700), MaxSeconds: f(2700)}},
			{Env: "prod", From: "test", Promotions: 2, Rollbacks: 1, RollbackRate: f(0.5), Refused: 1, Freezes: 2, Weeks: weeks(1, 0, 1, 1, 0, 0),
				TimeToRestore: promote.PipelineDurations{Count: 1, MedianSeconds: f(5400), P90Seconds: f(5400), MaxSeconds: f(5400)}},
			{Env: "qa", From: "dev", Weeks: weeks(0, 0, 0, 0, 0, 0)},
		},
		LeadTimes: []promote.PipelineLeadTime{
			{Env: "prod", From: "test", PipelineDurations: promote.PipelineDurations{Count: 2, MedianSeconds: f(968400), P90Seconds: f(1072800), MaxSeconds: f(1072800)}},
			{Env: "edge", From: "test"},
		},
	}
}

const pipelineGoldenText = `pipeline 2026-12-21T00:00:00Z to 2027-01-11T00:00:00Z (excluded)
ENV   FROM  PROMOTIONS  ROLLBACKS  RATE  REFUSED  FREEZES  RESTORES  MEDIAN  MAX
test  dev   6           1          17%   0        1        1         45m     45m
prod  test  2           1          50%   1        2        1         1h 30m  1h 30m
qa    dev   0           0          -     0        0        0         -       -

WEEK      test  prod  qa
2026-W52  2/0   1/0   0/0
2026-W53  2/1   1/1   0/0
2027-W01  2/0   0/0   0/0
promotions/rollbacks per ISO week (UTC)

LEAD TIME     DIGESTS  MEDIAN  P90      MAX
test -> prod  2        11d 5h  12d 10h  12d 10h
test -> edge  0        -       -        -
lead time: from a digest's earliest promotion into the first promoted environment (not its commit)
`

func TestPipelineTextGolden(t *testing.T) {
	var b bytes.Buffer
	printPipelineFigures(&b, pipelineGoldenFigures())
	assert.Equal(t, pipelineGoldenText, b.String())

	p := pipelineGoldenFigures()
	p.Environments[0].WeeksClipped = true
	p.Environments[1].Weeks = p.Environments[1].Weeks[1:] // a week one environment lacks
	b.Reset()
	printPipelineFigures(&b, p)
	assert.Contains(t, b.String(), "2026-W52  2/0   -     0/0\n")
	assert.Contains(t, b.String(), "per ISO week (UTC); the last 3 weeks of the window only\n")

	b.Reset()
	printPipelineFigures(&b, promote.PipelineFigures{})
	assert.Equal(t, "pipeline 0001-01-01T00:00:00Z to 0001-01-01T00:00:00Z (excluded)\nno environment is promoted into\n", b.String())
}

func TestPipelineCSVRows(t *testing.T) {
	rows := pipelineCSVRows(pipelineGoldenFigures())
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	require.NoError(t, cw.WriteAll(rows))
	assert.Equal(t, strings.Join([]string{
		"env,from,week,week_start,promotions,rollbacks",
		"test,dev,2026-W52,2026-12-21T00:00:00Z,2,0",
		"test,dev,2026-W53,2026-12-28T00:00:00Z,2,1",
		"test,dev,2027-W01,2027-01-04T00:00:00Z,2,0",
		"prod,test,2026-W52,2026-12-21T00:00:00Z,1,0",
		"prod,test,2026-W53,2026-12-28T00:00:00Z,1,1",
		"prod,test,2027-W01,2027-01-04T00:00:00Z,0,0",
		"qa,dev,2026-W52,2026-12-21T00:00:00Z,0,0",
		"qa,dev,2026-W53,2026-12-28T00:00:00Z,0,0",
		"qa,dev,2027-W01,2027-01-04T00:00:00Z,0,0",
	}, "\n")+"\n", b.String())
	assert.Equal(t, [][]string{{"env", "from", "week", "week_start", "promotions", "rollbacks"}}, pipelineCSVRows(promote.PipelineFigures{}))
}

func TestPipelineDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                 "0s",
		12 * time.Second:                  "12s",
		45 * time.Minute:                  "45m",
		90*time.Second + time.Millisecond: "1m 30s",
		time.Hour:                         "1h",
		time.Hour + 30*time.Minute:        "1h 30m",
		51*time.Hour + 59*time.Minute:     "2d 3h",
		-45 * time.Minute:                 "-45m",
		math.MinInt64:                     "-106751d 23h",
		math.MaxInt64:                     "106751d 23h",
	} {
		assert.Equal(t, want, pipelineDuration(d), d.String())
	}
}
