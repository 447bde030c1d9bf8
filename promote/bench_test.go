package promote

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// BenchmarkPromoteIndex promotes a two-platform index (the demo's shape: 2 ×
// 2 layers of 1 KiB plus configs) dev → test (same registry) → prod (another
// registry), gates included, ledger included.
func BenchmarkPromoteIndex(b *testing.B) {
	w := newWorld(b)
	e := w.engine()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		app := fmt.Sprintf("app%d", i)
		regtest.Push(b, w.dev(app)+":1.0", regtest.Index(b, regtest.Labels("1.0"), "1000"))
		b.StartTimer()
		if _, err := w.promote(e, "test", app+":1.0"); err != nil {
			b.Fatal(err)
		}
		if _, err := w.promote(e, "prod", app); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPromoteNothingToDo measures an idempotent re-run: everything is
// already in prod, so promote only checks and exits.
func BenchmarkPromoteNothingToDo(b *testing.B) {
	w := newWorld(b)
	e := w.engine()
	regtest.Push(b, w.dev("web")+":1.0", regtest.Index(b, regtest.Labels("1.0"), "1000"))
	_, err := w.promote(e, "test", "web:1.0")
	require.NoError(b, err)
	_, err = w.promote(e, "prod", "web")
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := w.promote(e, "prod", "web")
		if err != nil || !res.NothingToDo {
			b.Fatalf("expected nothing to do: %v", err)
		}
	}
}
