package config

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ledger resolves the ledger location: absent means DefaultLedger; a
// relative path is joined to the config file's directory; s3:// is kept.
func (w *walker) ledger(e entry) (string, error) {
	v := DefaultLedger
	if e.val != nil {
		s, err := w.str(e.val, "ledger")
		if err != nil {
			return "", err
		}
		v = s
	}
	const expected = "expected a file path such as .promote/ledger.db or s3://bucket/prefix"
	switch {
	case v == "":
		return "", w.errf(e.val, "ledger", "empty; %s", expected)
	case strings.HasPrefix(v, "s3://"):
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(v, "s3://"), "/"); bucket == "" {
			return "", w.errf(e.val, "ledger", "%q names no bucket; %s", v, expected)
		}
		return v, nil
	case strings.Contains(v, "://"):
		return "", w.errf(e.val, "ledger", "unsupported scheme in %q; %s", v, expected)
	case filepath.IsAbs(v):
		return filepath.Clean(v), nil
	default:
		return filepath.Join(filepath.Dir(w.file), v), nil
	}
}

// tagName is the OCI distribution rule for a tag.
var tagName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// movingTags decodes movingTags; "latest" is always moving, listed or not.
func (w *walker) movingTags(n *yaml.Node) ([]string, error) {
	tags, err := w.stringList(n, "movingTags")
	if err != nil {
		return nil, err
	}
	items := deref(n).Content
	for i, t := range tags {
		if !tagName.MatchString(t) {
			return nil, w.errf(items[i], index("movingTags", i), "%q is not a valid tag name; expected letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')", t)
		}
	}
	if !slices.Contains(tags, "latest") {
		tags = append([]string{"latest"}, tags...)
	}
	return tags, nil
}

var deriveKinds = []string{DeriveVersion, DeriveRevision}

// deriveTags decodes deriveTags: a list of DeriveVersion and DeriveRevision.
func (w *walker) deriveTags(n *yaml.Node) ([]string, error) {
	kinds, err := w.stringList(n, "deriveTags")
	if err != nil {
		return nil, err
	}
	items := deref(n).Content
	for i, k := range kinds {
		field := index("deriveTags", i)
		if !slices.Contains(deriveKinds, k) {
			return nil, w.errf(items[i], field, "unknown kind %q; expected one of: %s", k, strings.Join(deriveKinds, ", "))
		}
		if slices.Contains(kinds[:i], k) {
			return nil, w.errf(items[i], field, "%q is listed twice; list each kind once", k)
		}
	}
	return kinds, nil
}
