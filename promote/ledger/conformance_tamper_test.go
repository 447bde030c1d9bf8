package ledger

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tamperWorld is a signed ledger of twelve records over three chains, and
// the checkpoint an auditor kept after the eighth.
type tamperWorld struct {
	s    *store
	l    Ledger
	key  *Key
	recs []Record // in append order
	kept []byte
}

func newTamperWorld(t *testing.T, s *store) *tamperWorld {
	w := &tamperWorld{s: s, key: testKey(t, "promote.test/audit")}
	w.l = s.keyed(w.key)
	w.recs = loggedHistory(t, w.l, 8)
	kept, err := w.l.Checkpoint(context.Background())
	require.NoError(t, err)
	w.kept = kept
	for i := 8; i < 12; i++ {
		c := [][2]string{{"web", "test"}, {"web", "prod"}, {"api", "prod"}}[i%3]
		rec := newRecord(c[0], c[1], digestN(i+1), t0.Add(timeStep(i)))
		appendAtHead(t, w.l, rec)
		w.recs = append(w.recs, *rec)
	}
	return w
}

// ids returns the ids of recs in order.
func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// relink stores the records of i's chain from w.recs[i] on, edited by edit
// first, each re-hashed and linked to the one before it: a chain tail
// rewritten as a writer of the store can, with no link left broken.
func (w *tamperWorld) relink(i int, edit func(*Record)) {
	first := w.recs[i]
	prev := first.PrevHash
	for j := i; j < len(w.recs); j++ {
		r := &w.recs[j]
		if r.App != first.App || r.Env != first.Env {
			continue
		}
		if j == i {
			edit(r)
		}
		r.PrevHash = prev
		rehash(w.s.t, r)
		w.s.raw.rewrite(*r)
		prev = r.Hash
	}
}

// audit audits the ledger against the kept checkpoint.
func (w *tamperWorld) audit(t *testing.T) Report {
	rep, err := Audit(context.Background(), w.l, AuditOptions{Verifier: w.key.Public, Kept: []Kept{{Source: "auditor.note", Note: w.kept}}})
	require.NoError(t, err)
	return rep
}

func TestKeptCheckpointDetectsEveryTamper(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(w *tamperWorld)
		kept   string // the kept checkpoint's problem
		also   string // another problem that names what was done, "" if none
	}{
		{"truncate", func(w *tamperWorld) {
			for _, r := range w.recs[6:] {
				w.s.raw.remove(r.App, r.Env, r.Seq)
			}
			w.s.raw.rebuildLog(ids(w.recs[:6]))
		}, "fewer than the 8 kept: records were deleted, or it was cut short", "no signed checkpoint"},
		{"rewrite and re-hash a tail", func(w *tamperWorld) {
			w.relink(4, func(r *Record) { r.Reason = "never happened" })
			w.s.raw.rebuildLog(ids(w.recs))
		}, "the log does not extend it", ""},
		{"rewrite and re-hash, log left alone", func(w *tamperWorld) {
			w.relink(4, func(r *Record) { r.Digest = digestN(666) })
		}, "the log does not extend it", "no longer hashes to the leaf logged for it"},
		{"reorder", func(w *tamperWorld) {
			order := ids(w.recs)
			order[1], order[2] = order[2], order[1] // web/prod #1 and api/prod #1: each chain stays in order
			w.s.raw.rebuildLog(order)
		}, "the log does not extend it", ""},
		{"insert", func(w *tamperWorld) {
			in := *newRecord("web", "test", digestN(777), t0.Add(timeStep(1)))
			in.ID, in.MediaType, in.Seq, in.PrevHash = "inserted", MediaType, 2, w.recs[0].Hash
			rehash(w.s.t, &in)
			w.s.raw.insert(in)
			rest := append([]Record{in}, w.recs[3:]...)
			w.recs = append(w.recs[:1:1], w.recs[1:3]...)
			for _, r := range rest {
				if r.App == "web" && r.Env == "test" && r.ID != "inserted" {
					r.Seq++
				}
				w.recs = append(w.recs, r)
			}
			w.relink(3, func(*Record) {})
			w.s.raw.rebuildLog(ids(w.recs))
		}, "the log does not extend it", ""},
		{"delete", func(w *tamperWorld) {
			gone := w.recs[3] // web/test #2
			w.s.raw.remove(gone.App, gone.Env, gone.Seq)
			w.recs = append(w.recs[:3:3], w.recs[4:]...)
			w.s.raw.rebuildLog(ids(w.recs))
		}, "the log does not extend it", "seq 3 after seq 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, s *store) {
				w := newTamperWorld(t, s)
				require.True(t, w.audit(t).OK(), "clean before")
				tc.tamper(w)
				rep := w.audit(t)
				require.False(t, rep.OK())
				require.Len(t, rep.Log.Kept, 1)
				assert.False(t, rep.Log.Kept[0].OK)
				assert.Contains(t, rep.Log.Kept[0].Problem, tc.kept)
				if tc.also != "" {
					assert.True(t, anyProblem(rep, tc.also), "a problem says %q: %+v", tc.also, rep.Problems)
				}
			})
		})
	}
}

// anyProblem reports whether a problem of rep contains text.
func anyProblem(rep Report, text string) bool {
	for _, p := range rep.Problems {
		if strings.Contains(p.Msg, text) {
			return true
		}
	}
	return false
}
