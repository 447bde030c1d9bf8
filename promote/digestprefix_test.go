package promote

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
)

func TestDigestPrefix(t *testing.T) {
	const full = "sha256:b7f018b6fe24aa2233445566778899aabbccddeeff0011223344556677889900"
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"sha256:b7f018b6fe24", "sha256:b7f018b6fe24", true},
		{"b7f018b6fe24", "sha256:b7f018b6fe24", true},
		{"sha256:B7F018B6FE24", "sha256:b7f018b6fe24", true},
		{"sha256:b7f018b6fe2", "", false}, // 11 digits: too short
		{full, "", false},                 // a full digest is not a prefix
		{"sha256:b7f018b6fe2g", "", false},
		{"r-a7d2172e045f", "", false}, // a record id
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := digestPrefix(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestExpandDigest(t *testing.T) {
	const (
		a1 = "sha256:b7f018b6fe24aa00000000000000000000000000000000000000000000000001"
		a2 = "sha256:b7f018b6fe24bb00000000000000000000000000000000000000000000000002"
		c  = "sha256:c0ffee0000000000000000000000000000000000000000000000000000000003"
	)
	held := []string{a1, c, a2, a1}
	cases := []struct {
		name, prefix, want, msg string
	}{
		{name: "unique", prefix: "sha256:b7f018b6fe24aa", want: a1},
		{name: "unique among repeats", prefix: "sha256:c0ffee000000", want: c},
		{name: "ambiguous lists the candidates", prefix: "sha256:b7f018b6fe24",
			msg: "usage error: --to sha256:b7f018b6fe24: 2 digests prod held for web start with it: " + a1 + ", " + a2 + "; pass more of the digest, the full digest or a record id"},
		{name: "unknown says what to do", prefix: "sha256:dddddddddddd",
			msg: "usage error: --to sha256:dddddddddddd: no digest prod held for web starts with sha256:dddddddddddd; see promote history web --env prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandDigest("--to "+tc.prefix, tc.prefix, held, "prod held for web", "see promote history web --env prod")
			if tc.msg != "" {
				require.ErrorIs(t, err, errs.ErrUsage)
				assert.Equal(t, tc.msg, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A source digest shortened as history prints it: expanded against the
// tags of a pushed-to environment, or the ledger of a promoted-to one.
func TestPromoteByShortDigest(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	d := w.push("web", "1.0", "1.0")
	w.push("web", "other", "0.9")
	short := d.String()[:len("sha256:")+12]

	res, err := w.promote(e, "test", "web@"+short, "1.0")
	require.NoError(t, err)
	assert.Equal(t, d.String(), res.Digest, "expanded against dev's tags")
	assert.Equal(t, "web@"+short, res.Source.Given, "the record keeps what was typed")

	res, err = w.promote(e, "prod", "web@"+strings.TrimPrefix(short, "sha256:"))
	require.NoError(t, err)
	assert.Equal(t, d.String(), res.Digest, "expanded against what test held, bare hex too")

	ev, err := e.Evaluate(ctxTimeout(t), "prod", w.ref("web@"+short), nil)
	require.NoError(t, err)
	assert.Equal(t, d.String(), ev.Digest, "gates take it too")

	_, err = w.promote(e, "prod", "web@sha256:000000000000")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.Contains(t, err.Error(), "web@sha256:000000000000: no digest test held for web starts with sha256:000000000000")
	_, err = w.promote(e, "test", "web@sha256:000000000000")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.Contains(t, err.Error(), "no digest tagged in "+w.dev("web"))
	assert.Len(t, w.records(ledger.Query{Env: "prod"}), 1, "a usage error records nothing")
}

func TestDigestArg(t *testing.T) {
	full := strings.Repeat("ab", 32)
	cases := []struct {
		in, want string
		digest   bool
		err      bool
	}{
		{in: "sha256:" + full, want: "sha256:" + full, digest: true},
		{in: full, want: "sha256:" + full, digest: true},
		{in: "SHA256:" + strings.ToUpper(full), want: "sha256:" + full, digest: true},
		{in: "sha256:abababababab", want: "sha256:abababababab", digest: true},
		{in: "ABABABABABAB", want: "sha256:abababababab", digest: true},
		{in: "r-a7d2172e045f"},
		{in: "sha256:ababababab0", err: true}, // 11 digits
		{in: "ababababab0", err: true},
		{in: full + "a", err: true}, // 65 digits
		{in: "sha256:xyz", err: true},
		{in: "sha256:", err: true},
	}
	for _, c := range cases {
		got, digest, err := digestArg("--to", c.in)
		if c.err {
			require.ErrorIs(t, err, errs.ErrUsage, c.in)
			assert.Contains(t, err.Error(), "--to "+c.in+": a digest is sha256: and 64 hex digits, or at least its first 12")
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.digest, digest, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}
