package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustWindow(t *testing.T, allow, deny, tz string) Window {
	t.Helper()
	w, err := ParseWindow(allow, deny, tz)
	require.NoError(t, err)
	return w
}

func moment(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestWindowsAtEdgesZonesAndDaylightSaving(t *testing.T) {
	office := mustWindow(t, "Mon-Fri 09:00-16:00", "", "Europe/Amsterdam")
	night := mustWindow(t, "Fri-Sat 22:00-02:00", "", "America/New_York")
	xmas := mustWindow(t, "", "2026-12-24..2026-12-26", "Europe/Amsterdam")
	for _, tc := range []struct {
		name    string
		windows []Window
		now     string
		open    bool
		next    string // when closed: the next opening, "" if none within a week
	}{
		{"no windows: always open", nil, "2026-12-05T03:00:00Z", true, ""},
		{"inside, Amsterdam winter (UTC+1)", []Window{office}, "2026-12-04T08:00:00Z", true, ""},
		{"the first minute", []Window{office}, "2026-12-04T09:00:00+01:00", true, ""},
		{"the end is excluded", []Window{office}, "2026-12-04T16:00:00+01:00", false, "2026-12-07T09:00:00+01:00"},
		{"a minute before the start", []Window{office}, "2026-12-07T08:59:00+01:00", false, "2026-12-07T09:00:00+01:00"},
		{"weekend", []Window{office}, "2026-12-05T12:00:00+01:00", false, "2026-12-07T09:00:00+01:00"},
		{"summer time (UTC+2): 07:30Z is 09:30 there", []Window{office}, "2026-07-01T07:30:00Z", true, ""},
		{"winter time (UTC+1): 07:30Z is 08:30 there", []Window{office}, "2026-12-02T07:30:00Z", false, "2026-12-02T08:00:00Z"},
		{"the day clocks go forward, 09:00 CEST", []Window{office}, "2026-03-30T07:00:00Z", true, ""},
		{"the Monday after clocks go back, 09:00 CET", []Window{office}, "2026-10-26T08:00:00Z", true, ""},
		{"the Monday after clocks go back, 07:30Z is 08:30 CET", []Window{office}, "2026-10-26T07:30:00Z", false, "2026-10-26T08:00:00Z"},
		{"past midnight: Friday 23:00 New York", []Window{night}, "2026-12-05T04:00:00Z", true, ""},
		{"past midnight: Sunday 01:00 New York, after Saturday's evening", []Window{night}, "2026-12-06T06:00:00Z", true, ""},
		{"past midnight: Saturday 01:00 New York, after Friday's evening", []Window{night}, "2026-12-05T06:00:00Z", true, ""},
		{"past midnight: Sunday 23:00 New York is not listed", []Window{night}, "2026-12-07T04:00:00Z", false, "2026-12-12T03:00:00Z"},
		{"a denied holiday inside the window", []Window{office, xmas}, "2026-12-24T10:00:00+01:00", false, "2026-12-28T09:00:00+01:00"},
		{"the day after the holidays", []Window{office, xmas}, "2026-12-28T10:00:00+01:00", true, ""},
		{"deny alone: any time but the holidays", []Window{xmas}, "2026-12-27T00:00:00+01:00", true, ""},
		{"deny in its own zone: 23:30Z on the 23rd is the 24th in Amsterdam", []Window{xmas}, "2026-12-23T23:30:00Z", false, "2026-12-26T23:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.windows, moment(t, tc.now))
			assert.Equal(t, tc.open, v.Open, v.Reason)
			if tc.open {
				assert.True(t, v.Next.IsZero(), "no next opening when open")
				assert.Regexp(t, `is inside the promotion window allow |is on no denied date`, v.Reason, "says why it is open")
				return
			}
			assert.NotEmpty(t, v.Reason)
			if tc.next == "" {
				assert.True(t, v.Next.IsZero(), "next %s", v.Next)
			} else {
				assert.True(t, moment(t, tc.next).Equal(v.Next), "next opening %s, want %s", v.Next, tc.next)
			}
		})
	}
}

func TestWindowReasonsSayWhy(t *testing.T) {
	office := mustWindow(t, "Mon-Fri 09:00-16:00", "", "Europe/Amsterdam")
	xmas := mustWindow(t, "", "2026-12-25", "")
	v := Evaluate([]Window{office}, moment(t, "2026-12-05T12:00:00Z"))
	assert.Contains(t, v.Reason, "outside every promotion window (allow Mon-Fri 09:00-16:00 Europe/Amsterdam)")
	v = Evaluate([]Window{xmas}, moment(t, "2026-12-25T12:00:00Z"))
	assert.Contains(t, v.Reason, "Fri 2026-12-25 is a denied date (deny 2026-12-25 UTC)")
}

func TestParseWindowRefusesWhatItCannotRead(t *testing.T) {
	for _, tc := range []struct{ allow, deny, tz, want string }{
		{"", "", "", "one of them"},
		{"Mon-Fri 09:00-16:00", "2026-12-24", "", "one of them"},
		{"Mon-Fri", "", "", "expected days and hours"},
		{"Mon-Fry 09:00-16:00", "", "", `"Mon-Fry" is not a day`},
		{"Mon-Fri 9:00-16:00", "", "", "is not hours HH:MM-HH:MM"},
		{"Mon-Fri 09:00-24:30", "", "", "is not hours HH:MM-HH:MM"},
		{"Mon-Fri 09:00-09:00", "", "", "start and end at the same time"},
		{"", "2026-13-01", "", "expected a date such as 2026-12-24"},
		{"", "2026-12-26..2026-12-24", "", "ends before it starts"},
		{"Mon-Fri 09:00-16:00", "", "Mars/Olympus", "not an IANA time zone"},
		{"Mon-Fri 09:00-16:00", "", "Local", "not an IANA time zone"},
	} {
		_, err := ParseWindow(tc.allow, tc.deny, tc.tz)
		assert.ErrorContains(t, err, tc.want, "%+v", tc)
	}
	w, err := ParseWindow("daily 00:00-24:00", "", "")
	require.NoError(t, err)
	assert.True(t, Evaluate([]Window{w}, moment(t, "2026-12-06T23:59:00Z")).Open)
}
