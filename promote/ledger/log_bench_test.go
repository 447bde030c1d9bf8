package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/promote-dev/promote/promote/ledger/merkle"
)

// The targets, at 100 000 records on SQLite: an append with its
// signed checkpoint ≤ 2 ms, a full ledger verify < 5 s, proofs O(log n).
const benchRecords = 100_000

// bulkLedger makes a signed SQLite ledger of n records over 50 chains in one
// transaction, with the code appends use (prepare, chainAfter, appendLeaf,
// signTree), much faster than n appends: a fixture for benchmarks.
func bulkLedger(b *testing.B, n int, key *Key) (Ledger, []string) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "ledger.db")
	l, err := openSQLite(ctx, path, key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	conn, err := l.db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if err := beginImmediate(ctx, conn); err != nil {
		b.Fatal(err)
	}
	heads := map[string]Head{}
	ids := make([]string, 0, n)
	hashes := sqlHashes{ctx: ctx, q: conn, fresh: map[int64]merkle.Hash{}}
	for i := range n {
		app := fmt.Sprintf("app-%02d", i%50)
		r, err := prepare(newRecord(app, "prod", digestN(i+1), t0.Add(time.Duration(i)*time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		body, err := r.chainAfter(heads[app])
		if err != nil {
			b.Fatal(err)
		}
		heads[app] = Head{Seq: r.Seq, Hash: r.Hash}
		if _, err := conn.ExecContext(ctx, `INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.App, r.Env, r.Seq, string(r.Kind), r.Digest,
			r.Time.Format(timeLayout), r.PrevHash, r.Hash, string(body)); err != nil {
			b.Fatal(err)
		}
		if err := appendLeaf(ctx, conn, int64(i), r.ID, body, hashes); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := l.signTree(ctx, conn, int64(n), "", hashes); err != nil {
		b.Fatal(err)
	}
	if err := finishTx(conn, nil); err != nil {
		b.Fatal(err)
	}
	return l, ids
}

// BenchmarkAppendSigned100k appends one record, with its leaf, tree hashes
// and a signed checkpoint, to a ledger of 100 000.
func BenchmarkAppendSigned100k(b *testing.B) {
	ctx := context.Background()
	key := testKey(b, "promote.bench/ledger")
	l, _ := bulkLedger(b, benchRecords, key)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		rec := newRecord("web", "prod", digestN(benchRecords+i), time.Now())
		head, err := l.Head(ctx, "web", "prod")
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Append(ctx, rec, head); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudit100k is ledger verify of 100 000 records: every chain, the
// log rebuilt from the records, every stored checkpoint.
func BenchmarkAudit100k(b *testing.B) {
	ctx := context.Background()
	key := testKey(b, "promote.bench/ledger")
	l, _ := bulkLedger(b, benchRecords, key)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Audit(ctx, l, AuditOptions{Verifier: key.Public})
		if err != nil || !rep.OK() {
			b.Fatal(err, rep.Problems)
		}
	}
}

// BenchmarkProve100k proves one record of 100 000.
func BenchmarkProve100k(b *testing.B) {
	ctx := context.Background()
	key := testKey(b, "promote.bench/ledger")
	l, ids := bulkLedger(b, benchRecords, key)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i = (i + 7919) % len(ids)
		p, err := Prove(ctx, l, ids[i], key.Public)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(p.Hashes)), "hashes/proof")
	}
}
