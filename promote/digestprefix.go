package promote

import (
	"sort"
	"strings"

	"github.com/promote-dev/promote/errs"
)

// minDigestPrefix is the fewest hex digits a shortened digest may have:
// what history and show print (sha256: and 12 hex digits).
const minDigestPrefix = 12

// digestPrefix reports whether s names a digest by a prefix of its hex
// (sha256:HEX or bare HEX, at least minDigestPrefix and fewer than 64
// digits), and returns that prefix in sha256:hex form, lowercased.
func digestPrefix(s string) (string, bool) {
	hex := strings.ToLower(strings.TrimPrefix(s, "sha256:"))
	if len(hex) < minDigestPrefix || len(hex) >= 64 {
		return "", false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return "sha256:" + hex, true
}

// expandDigest finds the one digest among held that starts with prefix
// (digestPrefix's form). where says what held is, for the error ("test
// held for web"); none, what to do when nothing matches. An unknown or
// ambiguous prefix is a usage error: the second lists the candidates.
func expandDigest(flag, prefix string, held []string, where, none string) (string, error) {
	seen := map[string]bool{}
	var matches []string
	for _, d := range held {
		if strings.HasPrefix(d, prefix) && !seen[d] {
			seen[d] = true
			matches = append(matches, d)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", errs.Usagef("%s %s: no digest %s starts with %s; %s", flag, prefix, where, prefix, none)
	}
	return "", errs.Usagef("%s %s: %d digests %s start with it: %s; pass more of the digest, the full digest or a record id",
		flag, prefix, len(matches), where, strings.Join(matches, ", "))
}
