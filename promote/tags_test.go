package promote

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// A moving tag never lands in an immutable environment: the tag derived
// from the version label does, or the promotion is refused with a message
// that says which tag to pass.
func TestMovingTagIsNeverWritten(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	d := w.push("web", "latest", "1.2.3")

	res, err := w.promote(e, "test", "web:latest")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.2.3"}, res.Record.Tags)
	assert.Equal(t, d, w.digestOf(w.test("web")+":1.2.3"))
	assert.Zero(t, w.digestOf(w.test("web")+":latest"), "latest never written to an immutable environment")

	regtest.Push(t, w.dev("nover")+":latest", regtest.Image(t, 1, map[string]string{
		"org.opencontainers.image.source": "s", "org.opencontainers.image.revision": "r"}, "1000"))
	_, err = w.promote(e, "test", "nover:latest")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.Contains(t, err.Error(), "pass --tag")
	assert.Empty(t, w.tags(w.test("nover")), "nothing written")

	res, err = w.promote(e, "test", "nover:latest", "2.0")
	require.NoError(t, err)
	assert.Equal(t, []string{"2.0"}, res.Record.Tags)

	_, err = w.promote(e, "test", "web:latest", "latest")
	require.ErrorIs(t, err, errs.ErrUsage)
	assert.Contains(t, err.Error(), "moving tag")
	_, err = w.promote(e, "test", "web:latest", "sha256-"+d.Hex+".sig")
	require.ErrorIs(t, err, errs.ErrUsage)
}

// A digest pushed straight into test (bypassing promote) has no ledger
// record there, so it cannot travel on to prod by tag or by digest.
func TestPathCannotBeBypassedByPushingIntoTheMiddle(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	d := regtest.Push(t, w.test("web")+":sneaky", regtest.Image(t, 1, regtest.Labels("9.9"), "1000"))
	for _, ref := range []string{"web:sneaky", "web@" + d.String()} {
		_, err := w.promote(e, "prod", ref)
		var pe *PathError
		require.ErrorAs(t, err, &pe, ref)
		assert.Contains(t, err.Error(), "promote it to test first")
	}
	assert.Empty(t, w.tags(w.prod("web")))
	recs := w.records(ledger.Query{App: "web", Env: "prod"})
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, ledger.KindRejected, r.Kind)
		assert.Equal(t, d.String(), r.Digest)
	}
	_, err := w.promote(e, "prod", "web")
	require.ErrorIs(t, err, errs.ErrConflict, "APP alone with nothing in test")
}

func TestEvaluateCopiesAndRecordsNothing(t *testing.T) {
	w := newWorld(t)
	e := w.engine()
	w.push("web", "1.0", "1.0")
	regtest.Push(t, w.dev("web")+":root", regtest.Image(t, 1, regtest.Labels("1.0"), "0"))
	w.a.Requests()
	r, _ := ParseRef("web:1.0")
	ev, err := e.Evaluate(context.Background(), "test", r, nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", ev.Path)
	require.Len(t, ev.Gates, 2)
	assert.Equal(t, verdict.Pass, ev.Gates[1].Verdict)

	r, _ = ParseRef("web:root")
	ev, err = e.Evaluate(context.Background(), "test", r, nil)
	require.ErrorIs(t, err, errs.ErrGateRejected)
	assert.Equal(t, verdict.Fail, ev.Gates[1].Verdict)
	assert.Empty(t, regtest.Writes(w.a.Requests()))
	assert.Empty(t, w.records(ledger.Query{}))
}

func TestParseRef(t *testing.T) {
	for _, ok := range []string{"web", "web:1.0", "team/web:v1_2", "web@sha256:" + hex64} {
		_, err := ParseRef(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", ":1.0", "web:", "web@sha256:abc", "web:bad tag", "web@md5:" + hex64} {
		_, err := ParseRef(bad)
		assert.ErrorIs(t, err, errs.ErrUsage, bad)
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
