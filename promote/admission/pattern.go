package admission

import (
	"fmt"
	"regexp"
	"strings"
)

// appPattern matches what {app} may expand to: one or more repository path
// components joined by '/', as promote/config accepts app names.
const appPattern = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*`

// tagPattern and digestPattern are a reference's optional tag and digest.
const (
	tagPattern    = `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
	digestPattern = `sha256:[a-f0-9]{64}`
)

// byDigest matches a reference that names its content by digest.
const byDigest = `@` + digestPattern + `$`

const appPlaceholder = "{app}"

// compilePattern returns the regular expression (RE2, anchored) of the
// repositories a pattern such as registry.example.com/prod/{app} names.
// Each {app} matches any app name independently: RE2 has no
// back-references.
func compilePattern(p string) (string, error) {
	if !strings.Contains(p, appPlaceholder) {
		return "", fmt.Errorf("repository pattern %q has no {app}", p)
	}
	host, _, ok := strings.Cut(p, "/")
	if !ok || host == "" || strings.Contains(host, appPlaceholder) || strings.ContainsAny(p, " \t\n'\"*?") {
		return "", fmt.Errorf("repository pattern %q is not registry-host/path with {app} in the path", p)
	}
	parts := strings.Split(p, appPlaceholder)
	for i, s := range parts {
		if strings.ContainsAny(s, "{}") {
			return "", fmt.Errorf("repository pattern %q has a placeholder other than {app}", p)
		}
		parts[i] = regexp.QuoteMeta(s)
	}
	re := "^" + strings.Join(parts, "(?:"+appPattern+")") + "$"
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("repository pattern %q: %w", p, err)
	}
	return re, nil
}

// imageRegex matches an image reference into the pattern's repositories:
// the repository, then an optional tag, then an optional digest. Whether a
// digest is there is another rule's business.
func imageRegex(p string) string {
	re, _ := compilePattern(p) // checked by normalize
	return strings.TrimSuffix(re, "$") + "(?::" + tagPattern + ")?(?:@" + digestPattern + ")?$"
}

// movingRegex matches an image reference whose tag is one of tags (sorted,
// checked by normalize), digest or not.
func movingRegex(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = regexp.QuoteMeta(t)
	}
	return `^(?:[^@]*/)?[^/@:]+:(?:` + strings.Join(q, "|") + `)(?:@.*)?$`
}

// glob returns the pattern with {app} replaced by any, the wildcard of a
// controller's image globs ("*" for Kyverno, "**" for policy-controller,
// both matching across '/').
func glob(p, any string) string { return strings.ReplaceAll(p, appPlaceholder, any) }
