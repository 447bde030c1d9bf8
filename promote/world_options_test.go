package promote

import (
	"github.com/promote-dev/promote/internal/regtest"
)

// The options of newWorld. Those of a kind of registry or ledger with state
// of its own live beside it: withFakeRegistry (invariants_test.go),
// withS3Ledger (s3world_test.go).

// onHosts puts dev, test and prod on the registries at these hosts; an
// empty prod leaves prod out of the pipeline.
func onHosts(dev, test, prod string) worldOption {
	return func(w *world) { w.hosts.dev, w.hosts.test, w.hosts.prod = dev, test, prod }
}

// withRegtest puts the world on two in-process registries built with opts:
// dev and test on a, prod on b. It is the default.
func withRegtest(opts ...regtest.Option) worldOption {
	return func(w *world) {
		w.a, w.b = regtest.New(w.t, opts...), regtest.New(w.t, opts...)
		onHosts(w.a.Host, w.a.Host, w.b.Host)(w)
	}
}
