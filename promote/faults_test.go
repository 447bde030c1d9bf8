package promote

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/faults"
	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/ledger"
)

// scenario injects one kind of fault into a promotion.
type scenario struct {
	name  string
	apply func(w *faultWorld, rng *rand.Rand)
}

// firstK injects f into the first k requests that match.
func firstK(k int, match func(*http.Request) bool, f faults.Fault) func(*http.Request) faults.Fault {
	n := 0
	return func(r *http.Request) faults.Fault {
		if match(r) && n < k {
			n++
			return f
		}
		return faults.Fault{}
	}
}

var requestClasses = []struct {
	name  string
	match func(*http.Request) bool
}{
	{"any", func(*http.Request) bool { return true }},
	{"blob-read", faults.IsBlobGet},
	{"manifest-read", faults.IsManifestGet},
	{"upload", faults.IsUpload},
	{"manifest-write", faults.IsManifestPut},
}

func site(w *faultWorld, rng *rand.Rand) *faultySite {
	if rng.IntN(2) == 0 {
		return w.src
	}
	return w.dst
}

var scenarios = []scenario{
	{"status burst", func(w *faultWorld, rng *rand.Rand) {
		c := requestClasses[rng.IntN(len(requestClasses))]
		code := []int{500, 502, 503, 429, 429}[rng.IntN(5)]
		f := faults.Fault{Kind: faults.Status, Status: code}
		if code == 429 || code == 503 {
			f.RetryAfter = "0"
			if rng.IntN(25) == 0 {
				f.RetryAfter = "1"
			}
		}
		site(w, rng).inj.Set(firstK(1+rng.IntN(12), c.match, f))
	}},
	{"reset before the answer", func(w *faultWorld, rng *rand.Rand) {
		c := requestClasses[rng.IntN(len(requestClasses))]
		site(w, rng).inj.Set(firstK(1+rng.IntN(10), c.match, faults.Fault{Kind: faults.ResetBefore}))
	}},
	{"reset mid-blob download", func(w *faultWorld, rng *rand.Rand) {
		w.src.inj.Set(firstK(1+rng.IntN(4), func(r *http.Request) bool { return r.Method == http.MethodGet && faults.IsBlobGet(r) },
			faults.Fault{Kind: faults.ResetMidResponse, After: 1 + rng.Int64N(32<<10)}))
	}},
	{"reset mid-blob upload", func(w *faultWorld, rng *rand.Rand) {
		w.dst.inj.Set(firstK(1+rng.IntN(4), faults.IsBlobBody,
			faults.Fault{Kind: faults.ResetMidUpload, After: 1 + rng.Int64N(32<<10)}))
	}},
	{"tcp cut after n bytes", func(w *faultWorld, rng *rand.Rand) {
		stream := []string{"upstream", "downstream"}[rng.IntN(2)]
		site(w, rng).toxicSpec(w.t, fmt.Sprintf(`{"name":"cut","type":"limit_data","stream":%q,"toxicity":%.2f,"attributes":{"bytes":%d}}`,
			stream, 0.3+rng.Float64()*0.7, 1024+rng.IntN(256<<10)))
	}},
	{"tcp reset by peer", func(w *faultWorld, rng *rand.Rand) {
		site(w, rng).toxicSpec(w.t, fmt.Sprintf(`{"name":"rst","type":"reset_peer","stream":"downstream","toxicity":%.2f,"attributes":{"timeout":%d}}`,
			0.2+rng.Float64()*0.5, rng.IntN(20)))
	}},
	{"slow reads", func(w *faultWorld, rng *rand.Rand) {
		s := site(w, rng)
		s.toxicSpec(w.t, fmt.Sprintf(`{"name":"slow","type":"bandwidth","stream":"downstream","attributes":{"rate":%d}}`, 2000+rng.IntN(8000)))
		s.toxicSpec(w.t, `{"name":"lag","type":"latency","stream":"downstream","attributes":{"latency":3,"jitter":2}}`)
	}},
	{"registry gone mid-promotion", func(w *faultWorld, rng *rand.Rand) {
		s, after := site(w, rng), time.Duration(rng.IntN(40))*time.Millisecond
		s.goneAfter(after)
	}},
	{"tag PUT fails", func(w *faultWorld, rng *rand.Rand) {
		w.dst.inj.Set(func(r *http.Request) faults.Fault {
			if regtest.IsTagPut(r) {
				return faults.Fault{Kind: []faults.Kind{faults.Status, faults.ResetBefore}[rng.IntN(2)], Status: 500}
			}
			return faults.Fault{}
		})
	}},
	{"ledger write fails after the tag", func(w *faultWorld, _ *rand.Rand) { w.led.armed.Store(true) }},
}

func (s *faultySite) toxicSpec(t testing.TB, spec string) { s.toxic(t, spec) }

// TestFaultSuite runs randomised promotions under injected faults. Each
// must end done and verified, or with no new tag and no record; a failure
// after the tags (the ledger write, or a tag PUT the registry applied but
// whose answer was lost) may leave the tag, on complete and verified
// content, without a record. A re-run of every failed one must complete.
// PROMOTE_FAULT_RUNS and PROMOTE_FAULT_SEED change the count and replay a seed.
func TestFaultSuite(t *testing.T) {
	runs, seed := 200, uint64(time.Now().UnixNano())
	if v, err := strconv.Atoi(os.Getenv("PROMOTE_FAULT_RUNS")); err == nil && v > 0 {
		runs = v
	}
	if v, err := strconv.ParseUint(os.Getenv("PROMOTE_FAULT_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("fault suite: %d runs, PROMOTE_FAULT_SEED=%d", runs, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	w := newFaultWorld(t)
	tally := map[string]map[string]int{}
	for i := range runs {
		sc := scenarios[rng.IntN(len(scenarios))]
		app := fmt.Sprintf("app%03d", i)
		d := w.pushRandom(app, int64(8<<10+rng.IntN(120<<10)), rng.IntN(4) == 0)
		sc.apply(w, rng)
		began := time.Now()
		outcome := w.promoteOnce(app, d, sc.name)
		if took := time.Since(began); took > 2*time.Second {
			t.Logf("run %d (%s) took %s", i, sc.name, took.Round(time.Millisecond))
		}
		if tally[sc.name] == nil {
			tally[sc.name] = map[string]int{}
		}
		tally[sc.name][outcome]++
		if outcome != "done" {
			if o := w.promoteOnce(app, d, "re-run"); o != "done" {
				t.Fatalf("run %d (%s, seed %d): the re-run did not complete: %s", i, sc.name, seed, o)
			}
		}
	}
	rep, err := w.led.Verify(context.Background())
	require.NoError(t, err)
	require.True(t, rep.OK(), "ledger verifies after the suite: %+v", rep)
	var names []string
	total := map[string]int{}
	for n, m := range tally {
		names = append(names, n)
		for o, c := range m {
			total[o] += c
		}
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("%-34s %v", n, tally[n])
	}
	t.Logf("all %d runs: %v; every failed run re-ran to done", runs, total)
	require.Equal(t, runs, total["done"]+total["failed, nothing visible"]+total["failed after the tag"])
}

// promoteOnce promotes app:1 to test and checks the end state. It returns
// "done", "failed, nothing visible" or "failed after the tag", and fails
// the test on any other state.
func (w *faultWorld) promoteOnce(app string, d v1.Hash, what string) string {
	t := w.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ref, err := ParseRef(app + ":1")
	require.NoError(t, err)
	_, perr := w.eng.Promote(ctx, Request{Env: "test", Ref: ref})
	w.src.heal(t) // the checks below and the re-run see honest registries
	w.dst.heal(t)
	w.led.armed.Store(false)
	recs, err := w.led.Records(context.Background(), ledger.Query{App: app, Env: "test"})
	require.NoError(t, err)
	tagged := w.tagged(app)
	switch {
	case perr == nil:
		require.Len(t, recs, 1, "%s %s: one record", what, app)
		require.Equal(t, d.String(), recs[0].Digest, "%s %s: the record names the digest", what, app)
		require.Equal(t, d, tagged, "%s %s: the tag names the digest", what, app)
		w.requireComplete(app, d)
		return "done"
	case len(recs) != 0:
		t.Fatalf("%s %s failed (%v) but left %d record(s)", what, app, perr, len(recs))
	case tagged == v1.Hash{}:
		return "failed, nothing visible"
	}
	// A tag without a record: the ledger write failed after the tags, or the
	// registry applied a tag PUT whose answer was lost (it went away, or the
	// connection broke). Either way the tag must name the digest on complete
	// content (write order), and the re-run records it.
	require.Equal(t, d, tagged, "%s %s failed (%v) and left a tag on another digest", what, app, perr)
	w.requireComplete(app, d)
	return "failed after the tag"
}

func (w *faultWorld) tagged(app string) v1.Hash {
	repo, err := w.checker.Repository(w.dst.Direct + "/test/" + app)
	require.NoError(w.t, err)
	desc, err := w.checker.Head(context.Background(), repo.Tag("1"))
	require.NoError(w.t, err)
	if desc == nil {
		return v1.Hash{}
	}
	return desc.Digest
}

// requireComplete checks that everything d references is in test.
func (w *faultWorld) requireComplete(app string, d v1.Hash) {
	ctx := context.Background()
	repo, err := w.checker.Repository(w.dst.Direct + "/test/" + app)
	require.NoError(w.t, err)
	m, err := w.checker.Get(ctx, repo.Digest(d.String()))
	require.NoError(w.t, err)
	if idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw)); err == nil && len(idx.Manifests) > 0 {
		for _, c := range idx.Manifests {
			w.requireComplete(app, c.Digest)
		}
		return
	}
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	require.NoError(w.t, err)
	for _, b := range append([]v1.Descriptor{mf.Config}, mf.Layers...) {
		ok, err := w.checker.BlobExists(ctx, repo, b.Digest)
		require.NoError(w.t, err)
		require.True(w.t, ok, "%s: blob %s of %s is in test", app, b.Digest, d)
	}
}
