package promote

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
)

// FuzzParseRef checks the parser of the CLI's APP[:TAG|@DIGEST] argument.
// It never panics; an error wraps errs.ErrUsage; an accepted reference
// parses again to itself, has at most one of tag and digest, and a digest
// that is a valid sha256 digest or a digest prefix in its normal form
// (sha256: and 12 to 63 lowercase hex digits, expanded later against what
// the environment holds). One without a prefix prints back as given.
// Where the app is also a valid repository path, the reference it makes
// in a repository keeps its tag or digest exactly (the digest in is the
// digest out).
// Run: go test -run '^$' -fuzz '^FuzzParseRef$' -fuzztime 3m ./promote/
func FuzzParseRef(f *testing.F) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, s := range []string{
		"api", "api:1.2.3", "api@" + digest, "team/api:latest", "team/api@" + digest,
		"api:1.0@" + digest, "api@sha256:0123", "api:", ":1.0", "@" + digest, "api:a:b",
		"localhost:5000/api:1.0", "API:_x", "a@b@c", "api@SHA256:" + strings.Repeat("A", 64),
		"api@sha256:0123456789ab", "api@0123456789AB", "api@sha256:0123456789a",
	} {
		f.Add(s)
	}
	env := &config.Environment{Name: "dev", Repository: "registry.example.com:5000/dev/{app}"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, errs.ErrUsage) {
				t.Fatalf("ParseRef(%q): %v does not wrap ErrUsage", s, err)
			}
			return
		}
		p, isPrefix := digestPrefix(r.Digest)
		if isPrefix && p != r.Digest {
			t.Fatalf("ParseRef(%q) kept the digest prefix %q, not its normal form %q", s, r.Digest, p)
		}
		if !isPrefix && r.String() != s {
			t.Fatalf("ParseRef(%q) = %+v, which prints as %q", s, r, r.String())
		}
		if again, err := ParseRef(r.String()); err != nil || again != r {
			t.Fatalf("ParseRef(%q) = %+v, then %+v, %v", s, r, again, err)
		}
		if r.App == "" || strings.ContainsAny(r.App, ":") || (r.Tag != "" && r.Digest != "") {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
		if r.Digest != "" && !isPrefix {
			h, err := v1.NewHash(r.Digest)
			if err != nil || h.String() != r.Digest {
				t.Fatalf("ParseRef(%q) accepted the digest %q: %v", s, r.Digest, err)
			}
		}
		if r.Tag != "" && !validTag(r.Tag) {
			t.Fatalf("ParseRef(%q) accepted the tag %q", s, r.Tag)
		}
		repo, err := env.RepositoryFor(r.App)
		if err != nil {
			return
		}
		switch {
		case r.Digest != "" && !isPrefix:
			d, err := name.NewDigest(repo+"@"+r.Digest, name.StrictValidation)
			if err != nil || d.DigestStr() != r.Digest || d.Context().Name() != repo {
				t.Fatalf("%s@%s does not keep its digest: %v, %v", repo, r.Digest, d, err)
			}
		case r.Tag != "":
			tag, err := name.NewTag(repo+":"+r.Tag, name.StrictValidation)
			if err != nil || tag.TagStr() != r.Tag || tag.Context().Name() != repo {
				t.Fatalf("%s:%s does not keep its tag: %v, %v", repo, r.Tag, tag, err)
			}
		}
	})
}
