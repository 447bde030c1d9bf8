package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/verdict"
)

// fuzzDigest is the digest of the records built by the fuzz targets.
const fuzzDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// sampleObjects returns record objects as the S3 backend writes them, for
// seeds: a first record and the one after it, with gate evidence.
func sampleObjects(f *testing.F) [][]byte {
	f.Helper()
	first := Record{
		MediaType: MediaType, ID: "01J0000000000000000000000A", Seq: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Kind: KindPromotion, App: "team/api", Env: "test", From: "dev", Repository: "registry.example.com/test/team/api",
		Digest: fuzzDigest, Source: Source{Given: "team/api:1.0", Resolved: "registry.example.com/dev/team/api@" + fuzzDigest},
		Targets: []string{"registry.example.com/test/team/api:1.0"}, Tags: []string{"1.0"},
		Gates: []verdict.Result{{Name: "scan", Verdict: "pass", Reason: "no finding above high",
			Evidence: map[string]any{"counts": map[string]any{"HIGH": 1.0}, "sources": []any{"report"}}}},
		Actor: Actor{Identity: "ci", User: "runner", Host: "h"}, CI: &CI{Provider: "github", Commit: "abc"},
	}
	second := first
	second.ID, second.Seq, second.Kind, second.Previous, second.Reason = "01J0000000000000000000000B", 2, KindRollback, fuzzDigest, "rollback <&>"
	var out [][]byte
	prev := ""
	for _, r := range []Record{first, second} {
		r.PrevHash = prev
		body, err := r.Body()
		if err != nil {
			f.Fatal(err)
		}
		prev = HashBody(body)
		out = append(out, encodeObject(body, prev))
	}
	return out
}

// FuzzRecordObject feeds arbitrary bytes to what reads a record object from
// the bucket, where anyone with write access could have put them: the
// object framing (decodeObject), the record decoder of Head, Records and Get
// (decodeRecordObject), Verify's check of one object (storedObject) and
// of one SQLite row (storedRow.stored), each through storedRecord.check, and the lease and head-hint readers.
// Nothing panics; the readers agree; an object Verify accepts hashes to its
// stored hash and frames back to the same bytes; and no single-byte change
// of an object Verify accepts is accepted too.
// Run: go test -run '^$' -fuzz '^FuzzRecordObject$' -fuzztime 3m ./promote/ledger/
func FuzzRecordObject(f *testing.F) {
	for i, obj := range sampleObjects(f) {
		f.Add(obj, uint16(17*i+40), byte('x'))
	}
	f.Fuzz(func(t *testing.T, obj []byte, pos uint16, b byte) {
		_ = leaseFree(obj)
		var h hint
		_ = json.Unmarshal(obj, &h)

		body, hash, err := decodeObject(obj)
		rec, rerr := decodeRecordObject(obj)
		if err != nil {
			if rerr == nil {
				t.Fatalf("decodeRecordObject accepted an object decodeObject refuses: %v", err)
			}
		} else {
			if framed := encodeObject(body, hash); !bytes.Equal(framed, bytes.TrimRight(obj, " \t\r\n")) {
				t.Fatalf("object %q splits into body %q and hash %q, which frame as %q", obj, body, hash, framed)
			}
			if strings.ContainsAny(hash, `"\`) {
				t.Fatalf("stored hash %q", hash)
			}
			if rerr == nil && rec.Hash != hash {
				t.Fatalf("decodeRecordObject gives hash %q, the object holds %q", rec.Hash, hash)
			}
		}

		k, seq := chainKey{"app", "env"}, int64(1)
		if rerr == nil && rec.App != "" && rec.Env != "" && rec.Seq > 0 {
			k, seq = chainKey{rec.App, rec.Env}, rec.Seq
		}
		sr := storedObject(obj, k, seq)
		id, stored := sr.ID, sr.Hash
		if msgs := sr.check(seq, rec.PrevHash); len(msgs) > 0 {
			return
		}
		// Verify accepts it: it is a record of that chain whose body hashes to its hash.
		if err != nil || rerr != nil || HashBody(body) != hash || stored != hash || id != rec.ID ||
			rec.App != k.app || rec.Env != k.env || rec.Seq != seq {
			t.Fatalf("storedObject accepted %q: decode %v, %v; hash %s stored %s; record %+v", obj, err, rerr, HashBody(body), stored, rec)
		}
		row := storedRow{ID: rec.ID, App: rec.App, Env: rec.Env, Kind: string(rec.Kind), Digest: rec.Digest,
			Time: rec.Time.UTC().Format(timeLayout), PrevHash: rec.PrevHash, Hash: hash, Body: string(body), Seq: rec.Seq, SeqOK: true}
		if m := row.stored().check(seq, rec.PrevHash); len(m) > 0 {
			t.Fatalf("the S3 check accepts %q, the SQLite check of the same record does not: %q", obj, m)
		}
		if dec, msgs, ok := checkBody(body, hash); !ok || len(msgs) > 0 || dec.Hash != hash || dec.ID != rec.ID {
			t.Fatalf("checkBody of an accepted body: %+v, %q", dec, msgs)
		}

		// A single-byte change of an accepted object is refused, whatever byte
		// it changes, unless it only changes trailing white space.
		mutated := bytes.Clone(obj)
		i := int(pos) % len(mutated)
		if mutated[i] == b {
			b++
		}
		mutated[i] = b
		if bytes.Equal(bytes.TrimRight(mutated, " \t\r\n"), bytes.TrimRight(obj, " \t\r\n")) {
			return
		}
		if m := storedObject(mutated, k, seq).check(seq, rec.PrevHash); len(m) == 0 {
			t.Fatalf("Verify accepts %q and, with byte %d changed, %q", obj, i, mutated)
		}
		row.Body = string(mutated)
		if m := row.stored().check(seq, rec.PrevHash); len(m) == 0 && !bytes.Equal(mutated, body) {
			t.Fatalf("the SQLite check accepts body %q with byte %d changed", body, i)
		}
	})
}

// baseLikeEvidence is gate evidence as the base and noSecretsInEnv gates
// give it: a Go struct whose JSON fields are not in alphabetical order.
type baseLikeEvidence struct {
	Platform string `json:"platform"`
	Via      string `json:"via"`
	Layers   int64  `json:"layers"`
	Age      string `json:"age,omitempty"`
}

// FuzzRecordRoundTrip builds records from fuzzed fields and gate evidence
// (JSON, Go structs and integers, as the gates give them) and follows one
// through the ledger: prepare, hash, store as an S3 object, read back. The
// record read back re-encodes to the very body that was hashed (Copy and
// Import depend on it), it passes Import's checks and both backends'
// Verify, its key parses back to its chain, and a single-byte change of
// the stored object is detected.
// Run: go test -run '^$' -fuzz '^FuzzRecordRoundTrip$' -fuzztime 3m ./promote/ledger/
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("api", "test", "first promotion", "runner", []byte(`{"counts":{"HIGH":1},"ok":true}`), int64(1), int64(1767225600123456789), int64(3), uint16(10), byte('x'))
	f.Add("team/web", "prod", "rollback <&> \u2028", "ci", []byte(`[1e21, -0, 0.1, "x", null]`), int64(7), int64(-1), int64(1<<53+1), uint16(300), byte('"'))
	f.Add("a", "b", "\xff\xfe", "\x00", []byte(`not json`), int64(2), int64(0), int64(-5), uint16(0), byte('}'))
	f.Fuzz(func(t *testing.T, app, env, reason, user string, evidence []byte, seq, nanos, n int64, pos uint16, b byte) {
		var fuzzed any = string(evidence)
		if json.Valid(evidence) {
			_ = json.Unmarshal(evidence, &fuzzed)
		}
		in := Record{
			App: app, Env: env, Kind: KindPromotion, Digest: fuzzDigest, Repository: "registry.example.com/" + app,
			Time: time.Unix(0, nanos), Reason: reason, Tags: []string{reason}, Actor: Actor{User: user},
			Source: Source{Given: app + ":" + reason, Resolved: "registry.example.com/" + app + "@" + fuzzDigest},
			Gates: []verdict.Result{{Name: "base", Verdict: "pass", Reason: reason, Evidence: map[string]any{
				"fuzzed":    fuzzed,
				"platforms": []baseLikeEvidence{{Platform: "linux/amd64", Via: reason, Layers: n, Age: user}},
				"layers":    n,
			}}},
		}
		r, err := prepare(&in)
		if err != nil {
			return // app or env empty: refused before anything is stored
		}
		r.Seq = max(seq, 1) % (1 << 62)
		if r.Seq == 0 {
			r.Seq = 1
		}
		if r.Seq > 1 {
			r.PrevHash = HashBody([]byte(reason))
		}
		body, err := r.Body()
		if err != nil {
			t.Fatalf("a prepared record does not encode: %v", err)
		}
		r.Hash = HashBody(body)
		obj := encodeObject(body, r.Hash)

		if gotBody, gotHash, err := decodeObject(obj); err != nil || !bytes.Equal(gotBody, body) || gotHash != r.Hash {
			t.Fatalf("object framing: %q, %q, %v", gotBody, gotHash, err)
		}
		dec, err := decodeRecordObject(obj)
		if err != nil {
			t.Fatalf("a stored record does not decode: %v", err)
		}
		again, err := dec.Body()
		if err != nil || !bytes.Equal(again, body) {
			t.Fatalf("the record read back re-encodes differently (hash %s, not %s): %v\nstored: %s\nagain:  %s",
				HashBody(again), r.Hash, err, body, again)
		}
		if _, err := checkImport(dec); err != nil {
			t.Fatalf("a stored record cannot be imported (ledger copy): %v", err)
		}
		k := chainKey{r.App, r.Env}
		if msgs := storedObject(obj, k, r.Seq).check(r.Seq, r.PrevHash); len(msgs) > 0 {
			t.Fatalf("S3 Verify refuses a record as stored: %q", msgs)
		}
		row := storedRow{ID: r.ID, App: r.App, Env: r.Env, Kind: string(r.Kind), Digest: r.Digest,
			Time: r.Time.UTC().Format(timeLayout), PrevHash: r.PrevHash, Hash: r.Hash, Body: string(body), Seq: r.Seq, SeqOK: true}
		if msgs := row.stored().check(r.Seq, r.PrevHash); len(msgs) > 0 {
			t.Fatalf("SQLite Verify refuses a record as stored: %q", msgs)
		}
		l := &s3Ledger{prefix: "ledger"}
		if a, e, s, ok := l.recordKeyParts(l.recordKey(r.App, r.Env, r.Seq)); !ok || a != r.App || e != r.Env || s != r.Seq {
			t.Fatalf("the key of %s in %s seq %d parses as %q in %q seq %d (%v)", r.App, r.Env, r.Seq, a, e, s, ok)
		}

		mutated := bytes.Clone(obj)
		i := int(pos) % len(mutated)
		if mutated[i] == b {
			b++
		}
		mutated[i] = b
		if msgs := storedObject(mutated, k, r.Seq).check(r.Seq, r.PrevHash); len(msgs) == 0 {
			t.Fatalf("S3 Verify accepts the record with byte %d changed to %q: %s", i, b, mutated)
		}
		if i < len(body)-1 {
			row.Body = string(mutated[:len(body)-1]) + "}"
			if msgs := row.stored().check(r.Seq, r.PrevHash); len(msgs) == 0 {
				t.Fatalf("SQLite Verify accepts the body with byte %d changed to %q", i, b)
			}
		}
	})
}

// FuzzRecordKey checks the S3 key layout with arbitrary ledger locations,
// names and keys (a LIST returns whatever keys the bucket holds): nothing
// panics, an escaped name is one key level and unescapes to itself, and a
// key that parses as a record key is exactly the key of that record, so no
// two keys name the same record.
// Run: go test -run '^$' -fuzz '^FuzzRecordKey$' -fuzztime 3m ./promote/ledger/
func FuzzRecordKey(f *testing.F) {
	f.Add("s3://bucket/prefix", "prefix/records/team%2Fapi/test/00000000000000000001.json", "team/api", "test", int64(1))
	f.Add("s3://bucket", "records/api/%2E%2E/00000000000000000012.json", "..", ".", int64(12))
	f.Add("s3://b//p/", "p/records/a/b/-0000000000000000001.json", "a%2Fb", "%41", int64(-1))
	f.Add("s3://b/p?x", "p/records/%61/b/00000000000000000001.json", "\xff", "", int64(1<<62))
	f.Fuzz(func(t *testing.T, location, key, app, env string, seq int64) {
		bucket, prefix, err := parseS3Location(location)
		if err != nil {
			return
		}
		if bucket == "" || strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
			t.Fatalf("parseS3Location(%q) = %q, %q", location, bucket, prefix)
		}
		l := &s3Ledger{bucket: bucket, prefix: prefix}
		for _, s := range []string{app, env} {
			e := escapeSegment(s)
			if strings.Contains(e, "/") || e == "." || e == ".." {
				t.Fatalf("escapeSegment(%q) = %q is not one key level", s, e)
			}
			if u := unescapeSegment(e); u != s {
				t.Fatalf("escapeSegment(%q) = %q unescapes to %q", s, e, u)
			}
		}
		if a, e, s, ok := l.recordKeyParts(key); ok {
			if a == "" || e == "" || s < 1 {
				t.Fatalf("recordKeyParts(%q) = %q, %q, %d", key, a, e, s)
			}
			if canon := l.recordKey(a, e, s); canon != key {
				t.Fatalf("key %q parses as %q in %q seq %d, whose key is %q", key, a, e, s, canon)
			}
		}
		if app != "" && env != "" && seq >= 1 {
			k := l.recordKey(app, env, seq)
			if a, e, s, ok := l.recordKeyParts(k); !ok || a != app || e != env || s != seq {
				t.Fatalf("the key %q of %q in %q seq %d parses as %q, %q, %d, %v", k, app, env, seq, a, e, s, ok)
			}
		}
	})
}

// TestCopyRecordWithGoEvidence is the regression test of what
// FuzzRecordRoundTrip found: a record whose gate evidence holds what the
// gates give (a struct such as the base gate's, an integer beyond 2^53) or
// whose text is not valid UTF-8 must survive ledger copy, which re-encodes
// each record it reads and checks its hash.
func TestCopyRecordWithGoEvidence(t *testing.T) {
	ctx := context.Background()
	src, _ := openTestLedger(t)
	rec := newRecord("api", "test", fuzzDigest, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	rec.Gates = []verdict.Result{{Name: "base", Verdict: "pass", Reason: "built on an approved base", Evidence: map[string]any{
		"platforms": []baseLikeEvidence{{Platform: "linux/amd64", Via: "annotation", Layers: 3, Age: "2d"}},
		"size":      int64(1<<53 + 1),
	}}}
	rec.Reason = "tag \xff from a shell"
	appendAtHead(t, src, rec)
	stored := allRecords(t, src)[rec.ID]
	assert.Equal(t, *rec, stored, "Append returns the record as a reader gets it back")

	dst, _ := openTestS3(t)
	n, err := Copy(ctx, src, dst)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, map[string]Record{rec.ID: stored}, allRecords(t, dst))
}
