package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/gates/verdict"
)

// t0 is the time of the first record the tests write.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// timeStep spaces the test records one minute apart.
func timeStep(i int) time.Duration { return time.Duration(i) * time.Minute }

// blockedFor is how long a Lock that must block is given before its
// context ends.
const blockedFor = 150 * time.Millisecond

// openTestLedger opens a new SQLite ledger in a temporary directory and
// closes it when the test ends.
func openTestLedger(t testing.TB) (Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })
	return l, path
}

// newRecord returns a promotion of digest for app into env, as the engine
// would fill it before Append.
func newRecord(app, env, digest string, at time.Time) *Record {
	return &Record{
		Time:       at,
		Kind:       KindPromotion,
		App:        app,
		Env:        env,
		From:       "dev",
		Repository: "registry.example/" + env + "/" + app,
		Digest:     digest,
		Source:     Source{Given: app + ":1.0", Resolved: "registry.example/dev/" + app + "@" + digest},
		Targets:    []string{"registry.example/" + env + "/" + app + ":1.0"},
		Gates: []verdict.Result{{Name: "scan", Verdict: "pass", Reason: "no findings",
			Evidence: map[string]any{"critical": float64(0)}}},
		Actor:  Actor{User: "ci", Host: "runner-1"},
		Reason: "release " + digest,
	}
}

// digestN returns a distinct, well-formed digest for n.
func digestN(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// appendAtHead appends rec after the chain's current head.
func appendAtHead(t testing.TB, l Ledger, rec *Record) {
	t.Helper()
	ctx := context.Background()
	head, err := l.Head(ctx, rec.App, rec.Env)
	require.NoError(t, err)
	require.NoError(t, l.Append(ctx, rec, head))
}

// requireLinearChain asserts that the chain of app in env holds exactly n
// records, seq 1..n, each linked to the one before, and that Verify is clean.
func requireLinearChain(t *testing.T, l Ledger, app, env string, n int) []Record {
	t.Helper()
	ctx := context.Background()
	recs, err := l.Records(ctx, Query{App: app, Env: env})
	require.NoError(t, err)
	require.Len(t, recs, n)
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	prev := ""
	for i, r := range recs {
		require.Equal(t, int64(i+1), r.Seq, "seq of record %d", i)
		require.Equal(t, prev, r.PrevHash, "prev_hash of seq %d", r.Seq)
		body, err := r.Body()
		require.NoError(t, err)
		require.Equal(t, HashBody(body), r.Hash, "hash of seq %d", r.Seq)
		prev = r.Hash
	}
	rep, err := l.Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "verify: %+v", rep.Problems)
	return recs
}
