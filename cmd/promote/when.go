package main

import (
	"strings"
	"time"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote"
)

// parseWhen reads a time flag: RFC 3339 (2026-11-24T09:30:00Z), a date
// (2026-11-24, midnight UTC), or an age before now (36h, 7d, 2w).
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if d, err := promote.ParseAge(s); err == nil {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, errs.Usagef("--%s %q: expected a time (2026-11-24T09:30:00Z), a date (2026-11-24) or an age (36h, 7d)", flag, s)
}
