package promote

import (
	"net/url"
	"time"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/registry"
)

// What the command line passes in or shows, from the packages behind the
// engine, so that it needs no package but this one, errs and the ledger's
// record types.

// ScanReport is a scanner's report file (--scan-report) for the scan gate.
type ScanReport = gates.Report

// ParseAge parses a duration as the configuration writes them: "36h",
// "7d", "2w" or any time.ParseDuration string; it must be positive.
func ParseAge(s string) (time.Duration, error) {
	d, err := gates.ParseDuration(s)
	return time.Duration(d), err
}

// RedactURL returns u as scheme://host/path: no user info, and "?REDACTED"
// in place of a query string or fragment (registry.RedactURL).
func RedactURL(u *url.URL) string { return registry.RedactURL(u) }

// RedactText returns s with the query string and fragment of every URL in
// it replaced by "?REDACTED", as the registry client does in its errors
// (registry.RedactText).
func RedactText(s string) string { return registry.RedactText(s) }
