package promote

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/registry"
)

// The options of newWorld. Those of a kind of registry or ledger with state
// of its own live beside it: withFakeRegistry (invariants_test.go),
// withS3Ledger (s3world_test.go); hostile, faulty and leaky registries are
// put in place by their worlds' constructors through onHosts.

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

// withRetry sets the engines' registry retry policy (short waits for
// registries that fail on purpose).
func withRetry(r registry.Retry) worldOption {
	return func(w *world) { w.regOpts.Retry = r }
}

// withTransport gives each engine's registry client a base transport of
// its own, made by newTransport.
func withTransport(newTransport func() http.RoundTripper) worldOption {
	return func(w *world) { w.transport = newTransport }
}

// withEngineOptions adds options to every engine of the world.
func withEngineOptions(opts ...Option) worldOption {
	return func(w *world) { w.engineOpts = append(w.engineOpts, opts...) }
}

// onECR configures every environment as an ECR repository of account in
// eu-central-1, test gated by testGates, and gives the engines ECR access
// (its keychain, the scan gate's ECR source) as the CLI does. The hosts
// (onHosts) are the ECR endpoint's; the SDK finds it in the environment.
func onECR(account string, testGates ...string) worldOption {
	return func(w *world) {
		w.aws = fmt.Sprintf(`{region: eu-central-1, registryId: "%s"}`, account)
		w.gates.test = testGates
		w.ready = append(w.ready, func(w *world) {
			x, err := NewECR(context.Background(), w.cfg, ECROptions{ScanInterval: 5 * time.Millisecond})
			require.NoError(w.t, err)
			w.ecr, w.regOpts.Keychain = x, x.Keychain()
			w.engineOpts = append(w.engineOpts, WithECR(x))
		})
	}
}

// withJobs sets how many requests each engine's registry client runs at once.
func withJobs(n int) worldOption {
	return func(w *world) { w.regOpts.Jobs = n }
}
