// Package policy decides when a promotion may happen: the promotion
// windows and denied dates of an environment, evaluated in the IANA time
// zone each names. It holds no state: the caller gives the moment.
package policy

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // the IANA database inside the binary: no machine's zoneinfo is assumed
)

// Window is one entry of an environment's windows: an Allow span of week
// days and hours, or a Deny date or date range, in Location.
type Window struct {
	Allow    *WeekSpan
	Deny     *DateSpan
	Location *time.Location
	Text     string // as configured, for messages
}

// WeekSpan is days (a set of weekdays) and a time of day [From, To) in
// minutes after midnight; To < From runs past midnight into the next day.
type WeekSpan struct {
	Days     [7]bool // indexed by time.Weekday
	From, To int
}

// DateSpan is the calendar days From to To, both included.
type DateSpan struct {
	From, To civilDate
}

// civilDate is a calendar day, with no time zone.
type civilDate struct {
	Year  int
	Month time.Month
	Day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func (d civilDate) before(o civilDate) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// Verdict is what windows say of a moment: Open, or why not and when it
// opens next (zero if within a week it does not).
type Verdict struct {
	Open   bool
	Reason string
	Next   time.Time
}

// Evaluate says whether now is inside the windows: inside some Allow span
// (when any is configured) and inside no Deny date. Each entry is read in
// its own time zone, so daylight-saving changes move the hours with the
// wall clock.
func Evaluate(windows []Window, now time.Time) Verdict {
	open, why := at(windows, now)
	if !open {
		return Verdict{Reason: why, Next: next(windows, now)}
	}
	return Verdict{Open: true, Reason: why}
}

// at is Evaluate without the search for the next opening.
func at(windows []Window, now time.Time) (bool, string) {
	var allows []string
	allowed, anyAllow, inside := false, false, ""

	for _, w := range windows {
		local := now.In(w.Location)
		switch {
		case w.Deny != nil && w.Deny.contains(dateOf(local)):
			return false, fmt.Sprintf("%s is a denied date (%s)", local.Format("Mon 2006-01-02"), w.Text)
		case w.Allow != nil:
			anyAllow = true
			allows = append(allows, w.Text)
			if !allowed && w.Allow.contains(local) {
				allowed, inside = true, w.Text
			}
		}
	}
	when := now.UTC().Format("Mon 15:04 MST")
	switch {
	case anyAllow && !allowed:
		return false, fmt.Sprintf("%s is outside every promotion window (%s)", when, strings.Join(allows, "; "))
	case anyAllow:
		return true, fmt.Sprintf("%s is inside the promotion window %s", when, inside)
	}
	return true, when + " is on no denied date"
}

// next finds the first minute after now at which the windows are open,
// looking a week and a day ahead (a denied holiday may close a whole
// week's windows); zero if none.
func next(windows []Window, now time.Time) time.Time {
	t := now.Truncate(time.Minute).Add(time.Minute)
	for end := now.Add(8 * 24 * time.Hour); t.Before(end); t = t.Add(time.Minute) {
		if open, _ := at(windows, t); open {
			return t
		}
	}
	return time.Time{}
}

func (s DateSpan) contains(d civilDate) bool { return !d.before(s.From) && !s.To.before(d) }

// contains reports whether local (in the span's zone) is inside it.
func (s WeekSpan) contains(local time.Time) bool {
	m := local.Hour()*60 + local.Minute()
	day := local.Weekday()
	if s.From <= s.To {
		return s.Days[day] && m >= s.From && m < s.To
	}
	// Past midnight: the evening of a listed day, or the early hours of
	// the day after one.
	yesterday := (day + 6) % 7
	return s.Days[day] && m >= s.From || s.Days[yesterday] && m < s.To
}
