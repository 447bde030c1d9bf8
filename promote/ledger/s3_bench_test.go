package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The S3 benchmarks run against gofakes3 on loopback, so their times are
// the client's and the fake's CPU, not S3's network latency: each reports
// requests/op, which multiplied by a real round trip (about 10-30 ms to S3
// in-region) estimates the latency on AWS. The SQLite baselines are here to
// compare with, at the same size.
//
//	go test -run '^$' -bench 'S3Append|At100k' -benchtime 2s ./promote/ledger/

// bigChain is the size of the chain the *At100k benchmarks read and extend.
const bigChain = 100_000

// BenchmarkS3Append measures one promotion's ledger work on S3: take the
// lease, Head, Append (id index, record, hint) and release, into one chain
// that grows by one record per iteration; each iteration is a fresh ledger,
// as each `promote` process is.
func BenchmarkS3Append(b *testing.B) {
	_, f := openTestS3(b)
	benchPromotions(b, f, 0)
}

// BenchmarkS3At100k measures `current` (Head, then the newest promotion or
// rollback), Head alone and a promotion's ledger work on a chain that already
// holds bigChain records, written directly into the fake's backend.
func BenchmarkS3At100k(b *testing.B) {
	_, f := openTestS3(b)
	seedS3Chain(b, f, bigChain)
	b.Run("Head", func(b *testing.B) {
		l, reqs := f.countingLedger("audit")
		for b.Loop() {
			fresh := newS3Ledger(l.client, testBucket, "audit")
			if _, err := fresh.Head(context.Background(), "web", "prod"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(reqs.all.Load())/float64(b.N), "requests/op")
	})
	b.Run("Current", func(b *testing.B) {
		l, reqs := f.countingLedger("audit")
		for b.Loop() {
			benchCurrent(b, newS3Ledger(l.client, testBucket, "audit"))
		}
		b.ReportMetric(float64(reqs.all.Load())/float64(b.N), "requests/op")
	})
	b.Run("Append", func(b *testing.B) { benchPromotions(b, f, bigChain) })
}

// benchPromotions appends one promotion per iteration, each by a fresh
// ledger on f, after the chain's first `start` records.
func benchPromotions(b *testing.B, f *fakeS3, start int) {
	ctx := context.Background()
	l, reqs := f.countingLedger("audit")
	i := start
	for b.Loop() {
		i++
		fresh := newS3Ledger(l.client, testBucket, "audit")
		if err := promoteLocked(ctx, fresh, newRecord("web", "prod", digestN(i), time.Now())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reqs.all.Load())/float64(b.N), "requests/op")
}

// benchCurrent asks what `promote current` asks.
func benchCurrent(b *testing.B, l Ledger) {
	recs, err := l.Records(context.Background(), Query{App: "web", Env: "prod",
		Kinds: []Kind{KindPromotion, KindRollback}, Limit: 1})
	if err != nil || len(recs) != 1 {
		b.Fatalf("current: %v (%d records)", err, len(recs))
	}
}

// chainOf calls fn with n linked records of (web, prod), seq 1..n, and
// their bodies.
func chainOf(b *testing.B, n int, fn func(r Record, body []byte)) {
	prev := ""
	for i := 1; i <= n; i++ {
		r := *newRecord("web", "prod", digestN(i), t0.Add(time.Duration(i)*time.Second))
		r.MediaType, r.ID, r.Seq, r.PrevHash, r.Time = MediaType, fmt.Sprintf("r-%012x", i), int64(i), prev, r.Time.UTC()
		body, err := r.Body()
		if err != nil {
			b.Fatal(err)
		}
		r.Hash = HashBody(body)
		fn(r, body)
		prev = r.Hash
	}
}

// seedS3Chain writes n records and the head hint straight into the fake's
// backend (the id index objects are left out: nothing here reads them).
func seedS3Chain(b *testing.B, f *fakeS3, n int) {
	l := f.ledger("audit")
	var last Record
	chainOf(b, n, func(r Record, body []byte) {
		f.put(l.recordKey(r.App, r.Env, r.Seq), encodeObject(body, r.Hash))
		last = r
	})
	f.put(l.hintKey("web", "prod"), fmt.Appendf(nil, `{"seq":%d,"hash":%q}`, last.Seq, last.Hash))
}

// BenchmarkSQLiteAt100k is BenchmarkS3At100k's baseline: the same chain in
// the SQLite backend, inserted in one transaction.
func BenchmarkSQLiteAt100k(b *testing.B) {
	ctx := context.Background()
	l, _ := openTestLedger(b)
	db := l.(*sqliteLedger).db
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	chainOf(b, bigChain, func(r Record, body []byte) {
		_, err := tx.ExecContext(ctx, `INSERT INTO records (id, app, env, seq, kind, digest, time, prev_hash, hash, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.App, r.Env, r.Seq, string(r.Kind), r.Digest,
			r.Time.Format(timeLayout), r.PrevHash, r.Hash, string(body))
		if err != nil {
			b.Fatal(err)
		}
	})
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Run("Head", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.Head(ctx, "web", "prod"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Current", func(b *testing.B) {
		for b.Loop() {
			benchCurrent(b, l)
		}
	})
	b.Run("Append", func(b *testing.B) {
		i := bigChain
		for b.Loop() {
			i++
			if err := promoteLocked(ctx, l, newRecord("web", "prod", digestN(i), time.Now())); err != nil {
				b.Fatal(err)
			}
		}
	})
}
