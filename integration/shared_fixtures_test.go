//go:build integration

package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// sharedScanFixtures is the shared scan-report directory beside the
// repository, ../shared/fixtures/scan from its root, as CI provides it. A
// missing directory fails the test, saying what is missing and where it
// goes: it is not a skip that passes.
func sharedScanFixtures(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(signedRepoRoot(t), "..", "shared", "fixtures", "scan")
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		abs, _ := filepath.Abs(dir)
		t.Fatalf("the shared scan fixtures are missing: want the directory %s "+
			"(../shared/fixtures/scan beside the repository root, holding the scanner reports that "+
			"testdata/scan copies, and their README.md); CI provides it, locally put a copy of the "+
			"shared fixtures there: %v", abs, err)
	}
	return dir
}

// TestSharedScanFixtures checks testdata/scan, which the unit tests read,
// against the shared fixtures it was copied from: every shared report has a
// byte-identical copy (so gates/vuln's TestScanFixtures, which needs an
// expectation for each copy, parses it), every copy has a shared original
// (its provenance), and the copy's README ends with the shared README's
// notes, title line aside.
func TestSharedScanFixtures(t *testing.T) {
	shared := sharedScanFixtures(t)
	copies := filepath.Join(signedRepoRoot(t), "testdata", "scan")

	entries, err := os.ReadDir(shared)
	if err != nil {
		t.Fatalf("reading %s: %v", shared, err)
	}
	reports := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		want, err := os.ReadFile(filepath.Join(shared, name))
		if err != nil {
			t.Fatalf("reading shared fixture %s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join(copies, name))
		if err != nil {
			t.Errorf("shared fixture %s has no copy in testdata/scan: copy it there and add its expectation to gates/vuln/fixtures_test.go: %v", name, err)
			continue
		}
		if name == "README.md" {
			// the copy adds its own header in place of the shared title line
			notes := want
			if i := bytes.IndexByte(want, '\n'); i >= 0 {
				notes = want[i+1:]
			}
			if !bytes.HasSuffix(got, notes) {
				t.Errorf("testdata/scan/README.md does not end with the shared README's text after its title line: copy the shared notes (file table, provenance) again")
			}
			continue
		}
		reports++
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/scan/%s differs from the shared fixture (%d bytes, shared %d): copy it again, byte for byte", name, len(got), len(want))
		}
	}
	if reports == 0 {
		t.Errorf("%s holds no scan reports", shared)
	}

	copied, err := filepath.Glob(filepath.Join(copies, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range copied {
		name := filepath.Base(path)
		if _, err := os.Stat(filepath.Join(shared, name)); err != nil {
			t.Errorf("testdata/scan/%s has no shared original in %s: its provenance is undocumented: %v", name, shared, err)
		}
	}
}
