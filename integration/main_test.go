//go:build integration

package integration

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The whole suite, unfiltered, runs hundreds of commands (633 printing
// 540 kB when these were set); a scan of less than this means the collector
// is broken, not that nothing leaked.
const (
	minCommandsFullRun    = 300
	minOutputBytesFullRun = 150_000
)

// TestMain runs the suite, then scans everything it collected for the
// secrets the tests planted (scan_secrets_test.go): a secret found anywhere,
// in any encoding, fails the suite.
func TestMain(m *testing.M) {
	code := m.Run()
	if problems := secretScan(fullRun()); len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: secret scan:\n  %s\n", strings.Join(problems, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// fullRun reports whether no test was filtered out (-run, -skip).
func fullRun() bool {
	for _, f := range []string{"test.run", "test.skip"} {
		if fl := flag.Lookup(f); fl != nil && fl.Value.String() != "" {
			return false
		}
	}
	return true
}

// canaryWant is where the canary test puts its canary, and how encoded.
var (
	canaryKinds = []string{"output", "log", "ledger", "s3-object", "registry-data"}
	canaryEncs  = []string{"raw", "base64", "url-query", "hex"}
)

// secretScan returns what is wrong: a leak, a scanner that misses what it
// should find, or too little collected to mean anything.
func secretScan(full bool) []string {
	var problems []string
	if err := scannerSelfTest(); err != nil {
		problems = append(problems, err.Error())
	}
	collected.Lock()
	chunks, commands := collected.chunks, collected.commands
	collected.Unlock()
	planted.Lock()
	secrets := slices.Clone(planted.list)
	planted.Unlock()

	kinds := map[string]int{}
	for _, c := range chunks {
		kinds[c.kind] += len(c.data)
	}
	var canaries, real int
	for _, s := range secrets {
		if s.canary {
			canaries++
		} else {
			real++
		}
	}
	if full {
		if canaries == 0 {
			problems = append(problems, "the canary test did not run: the scan is not shown to find anything")
		}
		if commands < minCommandsFullRun || kinds["output"] < minOutputBytesFullRun {
			problems = append(problems, fmt.Sprintf("collected the output of %d commands, %d bytes, expected at least %d and %d bytes in a full run: is run() still collecting?",
				commands, kinds["output"], minCommandsFullRun, minOutputBytesFullRun))
		}
		if real < 8 {
			problems = append(problems, fmt.Sprintf("only %d secrets were planted, expected the secrets test's 8 or more", real))
		}
	}
	if real > 0 && commands == 0 {
		problems = append(problems, "secrets were planted but no command output was collected")
	}

	seen := map[string]bool{} // canary: kind and encoding found
	var leaks []string
	for _, f := range scan(chunks, secrets) {
		if f.secret.canary {
			seen["kind "+f.chunk.kind] = true
			seen["enc "+f.enc] = true
			continue
		}
		leaks = append(leaks, f.String())
	}
	if canaries > 0 {
		for _, k := range canaryKinds {
			if !seen["kind "+k] {
				problems = append(problems, fmt.Sprintf("the canary was put in the %s the suite collected, and the scan did not find it there", k))
			}
		}
		for _, e := range canaryEncs {
			if !seen["enc "+e] {
				problems = append(problems, fmt.Sprintf("the canary was written %s-encoded, and the scan did not find it so", e))
			}
		}
	}
	problems = append(problems, leaks...)

	var summary []string
	for k, n := range kinds {
		summary = append(summary, fmt.Sprintf("%s %d B", k, n))
	}
	sort.Strings(summary)
	fmt.Printf("secret scan: %d planted secrets (+%d canaries) in %d chunks from %d commands (%s): %d leaks\n",
		real, canaries, len(chunks), commands, strings.Join(summary, ", "), len(leaks))
	return problems
}
