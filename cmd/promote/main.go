// Command promote moves container images through environments by digest,
// running each environment's gates and recording every promotion in a
// tamper-evident ledger. See README.md and `promote --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/promote-dev/promote/errs"
)

func main() {
	ctx, stop := interruptible()
	stopProfile := startProfile(os.Getenv("PROMOTE_CPUPROFILE"))
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// interruptible is a context a SIGINT or SIGTERM cancels, with an
// *errs.Interrupt naming the signal as its cause: the work under way stops
// promptly and says how far it got, and the exit code is 130 or 143. After
// the first signal the default handling is back, so a second one ends the
// process at once.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		signal.Stop(sigs)
		if ok {
			cancel(&errs.Interrupt{Signal: s})
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(sigs); cancel(context.Canceled) }
}

// startProfile writes a CPU profile of the run to path (for performance
// reports: go tool pprof bin/promote PATH); an empty path does nothing.
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "promote: PROMOTE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}
