package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseWindow reads one windows entry: allow ("Mon-Fri 09:00-16:00": days,
// then hours) or deny ("2026-12-24", or "2026-12-24..2027-01-02"), exactly
// one of them, in the IANA time zone timezone ("" is UTC). Its errors say
// what form was expected.
func ParseWindow(allow, deny, timezone string) (Window, error) {
	if (allow == "") == (deny == "") {
		return Window{}, fmt.Errorf("give allow: \"Mon-Fri 09:00-16:00\" or deny: \"2026-12-24\" (or a range \"2026-12-24..2027-01-02\"), one of them")
	}
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil || timezone == "Local" {
			return Window{}, fmt.Errorf("time zone %q is not an IANA time zone name such as Europe/Amsterdam or UTC", timezone)
		}
		loc = l
	}
	w := Window{Location: loc}
	if allow != "" {
		span, err := parseWeekSpan(allow)
		if err != nil {
			return Window{}, err
		}
		w.Allow, w.Text = &span, "allow "+allow+" "+loc.String()
		return w, nil
	}
	span, err := parseDateSpan(deny)
	if err != nil {
		return Window{}, err
	}
	w.Deny, w.Text = &span, "deny "+deny+" "+loc.String()
	return w, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseWeekSpan reads "DAYS HH:MM-HH:MM", DAYS a comma-separated list of
// days (Mon) and ranges (Mon-Fri; Fri-Mon wraps over the weekend), or
// "daily".
func parseWeekSpan(s string) (WeekSpan, error) {
	const form = `expected days and hours such as "Mon-Fri 09:00-16:00" or "Sat,Sun 10:00-12:00" or "daily 22:00-06:00"`
	days, hours, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return WeekSpan{}, fmt.Errorf("allow %q: %s", s, form)
	}
	var span WeekSpan
	if strings.EqualFold(days, "daily") {
		span.Days = [7]bool{true, true, true, true, true, true, true}
	} else {
		for _, item := range strings.Split(days, ",") {
			a, b, isRange := strings.Cut(item, "-")
			from, okA := weekdays[strings.ToLower(a)]
			to, okB := from, true
			if isRange {
				to, okB = weekdays[strings.ToLower(b)]
			}
			if !okA || !okB {
				return WeekSpan{}, fmt.Errorf("allow %q: %q is not a day (Mon, Tue, … Sun) or a range of days; %s", s, item, form)
			}
			for d := from; ; d = (d + 1) % 7 {
				span.Days[d] = true
				if d == to {
					break
				}
			}
		}
	}
	a, b, ok := strings.Cut(strings.TrimSpace(hours), "-")
	from, errA := clock(a)
	to, errB := clock(b)
	switch {
	case !ok || errA != nil || errB != nil:
		return WeekSpan{}, fmt.Errorf("allow %q: %q is not hours HH:MM-HH:MM; %s", s, hours, form)
	case from == to:
		return WeekSpan{}, fmt.Errorf("allow %q: the hours start and end at the same time; %s", s, form)
	}
	span.From, span.To = from, to
	return span, nil
}

// clock reads HH:MM (00:00 to 24:00) as minutes after midnight.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, errH := strconv.Atoi(h)
	mm, errM := strconv.Atoi(m)
	if !ok || errH != nil || errM != nil || len(h) != 2 || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	return hh*60 + mm, nil
}

// parseDateSpan reads "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD".
func parseDateSpan(s string) (DateSpan, error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "..")
	if !isRange {
		b = a
	}
	from, errA := time.Parse(time.DateOnly, a)
	to, errB := time.Parse(time.DateOnly, b)
	switch {
	case errA != nil || errB != nil:
		return DateSpan{}, fmt.Errorf("deny %q: expected a date such as 2026-12-24, or a range such as 2026-12-24..2027-01-02", s)
	case to.Before(from):
		return DateSpan{}, fmt.Errorf("deny %q: the range ends before it starts", s)
	}
	return DateSpan{From: dateOf(from), To: dateOf(to)}, nil
}
