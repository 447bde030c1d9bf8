package gates

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a gate setting such as maxAge: it accepts Go durations
// ("36h") and whole days or weeks ("30d", "2w").
type Duration time.Duration

// ParseDuration parses "30d", "2w" or any time.ParseDuration string; it must be positive.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	switch {
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, fmt.Errorf("duration %q: expected a whole number of days (30d) or weeks (2w), or a Go duration (36h)", s)
		}
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		d = time.Duration(n) * unit
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("duration %q: expected 30d, 2w or a Go duration such as 36h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q: must be positive", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 30d", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// String renders whole days as "30d".
func (d Duration) String() string {
	t := time.Duration(d)
	if t%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", t/(24*time.Hour))
	}
	return t.String()
}

// Age renders an age rounded to hours or days, for reasons and evidence.
func Age(t time.Duration) string {
	if t < 48*time.Hour {
		return fmt.Sprintf("%dh", int(t.Hours()))
	}
	return fmt.Sprintf("%dd", int(t.Hours()/24))
}
