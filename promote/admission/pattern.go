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

// imageRegex matches an image reference into exactly the repositories
// repos (each checked by normalize): the repository, then an optional tag,
// then an optional digest. Whether a digest is there is another rule's
// business. No other repository matches, not one the pattern would also
// expand to: another environment's, a sibling's, a pull-through cache's.
func imageRegex(repos []string) string {
	q := make([]string, len(repos))
	for i, r := range repos {
		q[i] = regexp.QuoteMeta(r)
	}
	return "^(?:" + strings.Join(q, "|") + ")(?::" + tagPattern + ")?(?:@" + digestPattern + ")?$"
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

// kyvernoReferences are Kyverno imageReferences that match every reference
// into repos, by tag or digest (Kyverno's wildcard must match the whole
// reference, as registry/path:tag or registry/path@digest).
func kyvernoReferences(repos []string) []string {
	out := make([]string, 0, 3*len(repos))
	for _, r := range repos {
		out = append(out, r, r+":*", r+"@*")
	}
	return out
}

// policyControllerGlobs are policy-controller image globs matching every
// reference into repos: its "*" matches any characters but '/', and a glob
// may not hold '@'. The glob also matches a sibling repository sharing the
// name as a prefix; such an image still needs promote's attestation for
// the environment, and no-match-policy deny refuses the rest.
func policyControllerGlobs(repos []string) []string {
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r + "*"
	}
	return out
}
