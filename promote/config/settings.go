package config

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ledgerFields are the keys of the mapping form of ledger.
var ledgerFields = []string{"location", "key", "public", "witnesses"}

// ledger decodes ledger: a location string, or a mapping of location, key
// (the signer key file), public (the verifier key, or a file holding it)
// and witnesses (repositories checkpoints are published to).
func (w *walker) ledger(c *Config, e entry) error {
	c.Ledger = w.path(DefaultLedger)
	if e.val == nil {
		return nil
	}
	if n := deref(e.val); n.Kind != yaml.MappingNode {
		s, err := w.str(n, "ledger")
		if err != nil {
			return err
		}
		c.Ledger, err = w.ledgerLocation(n, "ledger", s)
		return err
	}
	f, err := w.fields(e.val, "ledger", "a ledger location, or a mapping with location, key, public and witnesses", ledgerFields)
	if err != nil {
		return err
	}
	if l, ok := f["location"]; ok {
		s, err := w.str(l.val, "ledger.location")
		if err != nil {
			return err
		}
		if c.Ledger, err = w.ledgerLocation(l.val, "ledger.location", s); err != nil {
			return err
		}
	}
	if k, ok := f["key"]; ok {
		s, err := w.str(k.val, "ledger.key")
		if err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" || strings.Contains(s, "://") || strings.Contains(s, "PRIVATE+KEY") {
			return w.errf(k.val, "ledger.key", "expected the path of a file holding the ledger's signer key (PRIVATE+KEY+…), never the key itself; make one with promote ledger key --generate FILE")
		}
		c.LedgerKey = w.path(s)
	}
	if p, ok := f["public"]; ok {
		if c.LedgerPublic, err = w.publicKey(p.val); err != nil {
			return err
		}
	}
	if r, ok := f["witnesses"]; ok {
		if c.Witnesses, err = w.stringList(r.val, "ledger.witnesses"); err != nil {
			return err
		}
	}
	return nil
}

// publicKey is a note verifier key (name+hash+key) as it is, or the path
// of a file holding one, resolved like the ledger's path.
func (w *walker) publicKey(n *yaml.Node) (string, error) {
	s, err := w.str(n, "ledger.public")
	if err != nil {
		return "", err
	}
	if s = strings.TrimSpace(s); s == "" || strings.Contains(s, "PRIVATE+KEY") {
		return "", w.errf(n, "ledger.public", "expected the ledger's verifier key (promote ledger key --public prints it) or a file holding it")
	}
	if verifierKey.MatchString(s) {
		return s, nil
	}
	return w.path(s), nil
}

// path resolves a file path against the config file's directory.
func (w *walker) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(filepath.Dir(w.file), p)
}

// ledgerLocation resolves the ledger location: a relative path is joined
// to the config file's directory; s3:// is kept.
func (w *walker) ledgerLocation(n *yaml.Node, field, v string) (string, error) {
	const expected = "expected a file path such as .promote/ledger.db or s3://bucket/prefix"
	switch {
	case v == "":
		return "", w.errf(n, field, "empty; %s", expected)
	case strings.HasPrefix(v, "s3://"):
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(v, "s3://"), "/"); bucket == "" {
			return "", w.errf(n, field, "%q names no bucket; %s", v, expected)
		}
		return v, nil
	case strings.Contains(v, "://"):
		return "", w.errf(n, field, "unsupported scheme in %q; %s", v, expected)
	}
	return w.path(v), nil
}

// verifierKey is the note verifier key form: name+hash+base64 key.
var verifierKey = regexp.MustCompile(`^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$`)

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
