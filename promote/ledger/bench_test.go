package ledger

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAppend measures one promotion's ledger work: Lock, Head and
// Append into one chain that grows by one record per iteration, and release.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	l, _ := openTestLedger(b)
	i := 0
	for b.Loop() {
		i++
		if err := promoteLocked(ctx, l, newRecord("web", "prod", digestN(i), time.Now())); err != nil {
			b.Fatal(err)
		}
	}
}
