package main

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/promote-dev/promote/promote"
)

// redactAttr drops the query string of any URL in a log attribute, as the
// registry client does for its errors: a URL a registry handed out may
// carry a pre-signed signature or an upload session's state. Attributes
// without one are left as they are.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	var text string
	switch a.Value.Kind() {
	case slog.KindString:
		text = a.Value.String()
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case *url.URL:
			a.Value = slog.StringValue(promote.RedactURL(v))
			return a
		case error:
			text = v.Error()
		case fmt.Stringer:
			text = v.String()
		default:
			return a
		}
	default:
		return a
	}
	if clean := promote.RedactText(text); clean != text || a.Value.Kind() == slog.KindAny {
		a.Value = slog.StringValue(clean)
	}
	return a
}
