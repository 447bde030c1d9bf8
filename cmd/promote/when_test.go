package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-24T09:30:00Z":      time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
		"2026-11-24T10:30:00+01:00": time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"36h":                       now.Add(-36 * time.Hour),
		"7d":                        now.Add(-7 * 24 * time.Hour),
	} {
		got, err := parseWhen("since", in, now)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: %s", in, got)
	}
	_, err := parseWhen("at", "yesterday", now)
	assert.ErrorIs(t, err, errs.ErrUsage)
	assert.ErrorContains(t, err, "--at")
}
