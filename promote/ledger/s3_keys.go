package ledger

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Key layout of the S3 ledger, under its prefix:
//
//	records/<app>/<env>/<seq>.json   one record: its hashed body with "hash" as the last member
//	heads/<app>/<env>.json           head hint {"seq": N, "hash": "..."}, only a hint
//	ids/<id>                         record id -> the key of its record
//	locks/<app>/<env>                the writer lease of one chain
//	log/leaves/<n>.json              leaf n of the transparency log (s3_logleaf.go)
//	log/ids/<id>                     record id -> its leaf {"leaf": n}
//	log/intents/<id>                 the record's intent, signed by the ledger key (log_intent.go); keyed writers only
//	log/checkpoints/<size>           the signed checkpoint of the first size leaves
//	log/key                          the verifier key the checkpoints are signed with
//	log/head.json                    log size hint {"size": N}, only a hint
//
// <seq>, <n> and <size> are zero-padded to 20 digits, so that key order is
// number order. Everything but the hints is written create-only
// (If-None-Match: *) and never rewritten by promote. App, env and id are escaped by escapeSegment: letters, digits,
// '-', '_' and '.' stay as they are and every other byte becomes %XX
// (uppercase hex), so "team/web" is "team%2Fweb" and a name can never add a
// level to the key; "." and ".." are escaped whole (%2E), since some
// S3-compatible servers store keys as file paths. url.PathUnescape reverses it.

// seqDigits is the width of the zero-padded sequence number in record keys.
const seqDigits = 20

// escapeSegment makes s safe as one level of an object key.
func escapeSegment(s string) string {
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// key joins the ledger prefix and the given levels.
func (l *s3Ledger) key(levels ...string) string {
	k := strings.Join(levels, "/")
	if l.prefix == "" {
		return k
	}
	return l.prefix + "/" + k
}

func (l *s3Ledger) recordKey(app, env string, seq int64) string {
	return l.key("records", escapeSegment(app), escapeSegment(env), fmt.Sprintf("%0*d.json", seqDigits, seq))
}

// recordsPrefix is the prefix of every record key, or of one app's, or of
// one chain's, as far as app and env are given.
func (l *s3Ledger) recordsPrefix(app, env string) string {
	switch {
	case app != "" && env != "":
		return l.key("records", escapeSegment(app), escapeSegment(env)) + "/"
	case app != "":
		return l.key("records", escapeSegment(app)) + "/"
	}
	return l.key("records") + "/"
}

func (l *s3Ledger) hintKey(app, env string) string {
	return l.key("heads", escapeSegment(app), escapeSegment(env)+".json")
}

// hintsPrefix is the prefix of every head hint key, or of one app's.
func (l *s3Ledger) hintsPrefix(app string) string {
	if app != "" {
		return l.key("heads", escapeSegment(app)) + "/"
	}
	return l.key("heads") + "/"
}

// hintKeyParts parses a key under heads/ back into its chain; ok is false
// for any other key.
func (l *s3Ledger) hintKeyParts(key string) (k chainKey, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, l.hintsPrefix("")), "/")
	if len(parts) != 2 || !strings.HasSuffix(parts[1], ".json") {
		return chainKey{}, false
	}
	k = chainKey{unescapeSegment(parts[0]), unescapeSegment(strings.TrimSuffix(parts[1], ".json"))}
	return k, k.app != "" && k.env != ""
}

func (l *s3Ledger) idKey(id string) string { return l.key("ids", escapeSegment(id)) }

// leafKey is the key of leaf n of the log.
func (l *s3Ledger) leafKey(n int64) string {
	return l.key("log", "leaves", fmt.Sprintf("%0*d.json", seqDigits, n))
}

// leafKeyIndex parses a key under log/leaves/ back into its leaf index; ok
// is false for any other key.
func (l *s3Ledger) leafKeyIndex(key string) (n int64, ok bool) {
	name, found := strings.CutPrefix(key, l.key("log", "leaves")+"/")
	if !found {
		return 0, false
	}
	if name, found = strings.CutSuffix(name, ".json"); !found {
		return 0, false
	}
	return parseCounter(name)
}

// logIDKey is the key of the object that names record id's leaf.
func (l *s3Ledger) logIDKey(id string) string { return l.key("log", "ids", escapeSegment(id)) }

// intentKey is the key of record id's signed intent.
func (l *s3Ledger) intentKey(id string) string { return l.key("log", "intents", escapeSegment(id)) }

// checkpointKey is the key of the signed checkpoint of the first size leaves.
func (l *s3Ledger) checkpointKey(size int64) string {
	return l.key("log", "checkpoints", fmt.Sprintf("%0*d", seqDigits, size))
}

// checkpointKeySize parses a key under log/checkpoints/ back into its tree
// size; ok is false for any other key.
func (l *s3Ledger) checkpointKeySize(key string) (size int64, ok bool) {
	name, found := strings.CutPrefix(key, l.key("log", "checkpoints")+"/")
	if !found {
		return 0, false
	}
	return parseCounter(name)
}

// parseCounter parses a zero-padded leaf index or tree size.
func parseCounter(name string) (int64, bool) {
	if len(name) != seqDigits {
		return 0, false
	}
	n, err := strconv.ParseInt(name, 10, 64)
	return n, err == nil && n >= 0
}

func (l *s3Ledger) logKeyKey() string  { return l.key("log", "key") }
func (l *s3Ledger) logHintKey() string { return l.key("log", "head.json") }

func (l *s3Ledger) lockKey(app, env string) string {
	return l.key("locks", escapeSegment(app), escapeSegment(env))
}

// recordKeyParts parses a key under records/ back into app, env and seq; ok
// is false for any other key.
func (l *s3Ledger) recordKeyParts(key string) (app, env string, seq int64, ok bool) {
	rest, found := strings.CutPrefix(key, l.recordsPrefix("", ""))
	if !found {
		return "", "", 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	name, found := strings.CutSuffix(parts[2], ".json")
	if !found || len(name) != seqDigits {
		return "", "", 0, false
	}
	seq, err := strconv.ParseInt(name, 10, 64)
	if err != nil || seq < 1 {
		return "", "", 0, false
	}
	app, env = unescapeSegment(parts[0]), unescapeSegment(parts[1])
	if app == "" || env == "" {
		return "", "", 0, false
	}
	return app, env, seq, true
}

// unescapeSegment reverses escapeSegment; "" for a segment that
// escapeSegment would not have written.
func unescapeSegment(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil || escapeSegment(u) != s {
		return ""
	}
	return u
}

// hashMember is what precedes the hash at the end of a record object.
const hashMember = `,"hash":"`

// encodeObject returns the record object for a body and its hash: the body
// with "hash" added as its last member. It is exactly json.Marshal of the
// record with Hash set, so the object is the record an auditor reads, and
// removing that last member gives back the exact bytes the hash covers:
//
//	sed 's/,"hash":"[^"]*"}$/}/' OBJECT | sha256sum
func encodeObject(body []byte, hash string) []byte {
	out := make([]byte, 0, len(body)+len(hashMember)+len(hash)+2)
	out = append(out, bytes.TrimSuffix(body, []byte("}"))...)
	out = append(out, hashMember...)
	out = append(out, hash...)
	return append(out, `"}`...)
}

// decodeObject splits a record object into the hashed body and the stored
// hash; it fails if the object does not end with the hash member.
func decodeObject(obj []byte) (body []byte, hash string, err error) {
	obj = bytes.TrimRight(obj, " \t\r\n")
	i := bytes.LastIndex(obj, []byte(hashMember))
	if i < 0 || !bytes.HasSuffix(obj, []byte(`"}`)) || i+len(hashMember) > len(obj)-2 {
		return nil, "", fmt.Errorf(`object does not end with a "hash" member`)
	}
	hash = string(obj[i+len(hashMember) : len(obj)-2])
	if strings.ContainsAny(hash, `"\`) {
		return nil, "", fmt.Errorf(`object does not end with a "hash" member`)
	}
	body = append(append([]byte{}, obj[:i]...), '}')
	return body, hash, nil
}
