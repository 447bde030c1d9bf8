package registry

import (
	"net/url"
	"strings"
)

// The URLs a registry hands promote carry secrets in their query strings:
// a blob read redirected to S3 or a CDN goes to a pre-signed URL
// (X-Amz-Signature, X-Amz-Security-Token), an upload session's Location
// holds its _state, a token realm or a next-page link may hold anything.
// Go's HTTP client and go-containerregistry put the URL of a failed
// request into the error, the query string with it (go-containerregistry
// blanks some values, not the parameter names, and not on every path).
//
// So every error a Client method returns passes through redact, once, on
// its way out of this package (done, in reach.go): each URL in its message
// keeps its scheme, host and path (they say which request failed) and loses
// its query string and fragment, shown as "?REDACTED". Logs, text and JSON output and ledger
// records are made from these messages. The error still wraps the one it
// was made from, so errors.Is and errors.As find what callers branch on
// (errs.ErrNotFound, context.Canceled, *transport.Error, *PolicyError,
// *ExhaustedError); the values errors.As finds are for branching, not for
// printing: a *url.Error's URL keeps its query.

// redactedQuery stands in for the query string of a URL in an error.
const redactedQuery = "?REDACTED"

// redacted is an error whose message has had its URLs' query strings
// removed; it wraps the error it was made from.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// redact returns err with no query string of any URL in its message: err
// itself when there is none.
func redact(err error) error {
	if err == nil {
		return nil
	}
	if _, done := err.(*redacted); done {
		return err
	}
	msg := err.Error()
	clean := RedactText(msg)
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

// RedactURL returns u as scheme://host/path: no user info, and
// "?REDACTED" in place of a query string or fragment.
func RedactURL(u *url.URL) string {
	v := *u
	had := v.RawQuery != "" || v.ForceQuery || v.Fragment != ""
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	if had {
		return v.String() + redactedQuery
	}
	return v.String()
}

// redactRawURL is RedactURL of s, or RedactText of it when it does not parse.
func redactRawURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return RedactURL(u)
	}
	return RedactText(s)
}

// RedactText returns s with the query string and fragment of every URL in
// it (absolute, scheme://..., or a path from the root, /v2/...) replaced by
// "?REDACTED". A URL ends at white space, a quote, '<', '>' or '`'; the
// punctuation that ends it (':' ',' ';' ')') is kept, since messages put
// "GET <url>: ..." and the like around URLs.
func RedactText(s string) string {
	if !strings.ContainsAny(s, "?#") {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		start := strings.IndexFunc(s, func(r rune) bool { return !isURLEnd(r) })
		if start < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:start])
		s = s[start:]
		end := strings.IndexFunc(s, isURLEnd)
		if end < 0 {
			end = len(s)
		}
		b.WriteString(redactToken(s[:end]))
		s = s[end:]
	}
	return b.String()
}

// redactToken redacts one run of characters that may be a URL.
func redactToken(t string) string {
	if !strings.Contains(t, "://") && !strings.HasPrefix(t, "/") {
		return t
	}
	q := strings.IndexAny(t, "?#")
	if q < 0 {
		return t
	}
	tail := len(strings.TrimRight(t[q+1:], ":,;)"))
	return t[:q] + redactedQuery + t[q+1+tail:]
}

func isURLEnd(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '`':
		return true
	}
	return false
}
