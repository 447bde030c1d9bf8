//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command line contract: stray arguments and unknown flags are usage
// errors (exit 2), flags may follow positionals, a config error names
// file:line and field, and --output json prints one document even on error.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev, test := p.repo("dev", "web"), p.repo("test", "web")
	d := p.pushImage(dev+":1.0", image{Version: "1.0"})

	t.Run("stray argument", func(t *testing.T) {
		r := p.promote("current", "test", "web", "extra")
		if r.Code != 2 {
			t.Errorf("a stray argument should exit 2:\n%s", r)
		}
		if !strings.Contains(r.Stderr, "extra") {
			t.Errorf("the usage error should name the stray argument \"extra\":\n%s", r)
		}
	})

	t.Run("unknown flag", func(t *testing.T) {
		for _, args := range [][]string{
			{"to", "test", "web:1.0", "--no-such-flag"},
			{"--no-such-flag", "history"},
		} {
			r := p.promote(args...)
			if r.Code != 2 {
				t.Errorf("an unknown flag should exit 2:\n%s", r)
			}
			if !strings.Contains(r.Stderr, "no-such-flag") {
				t.Errorf("the usage error should name the unknown flag:\n%s", r)
			}
		}
	})

	t.Run("flags after positionals", func(t *testing.T) {
		r := p.promote("to", "test", "web:1.0", "--dry-run", "--output", "json")
		if r.Code != 0 {
			t.Fatalf("a dry run with flags after the positionals should succeed:\n%s", r)
		}
		doc := parseDocument(t, r)
		var res promotion
		decodeResult(t, doc, &res)
		if !doc.OK || !res.DryRun {
			t.Errorf("expected ok true and dryRun true, got ok %v dryRun %v:\n%s", doc.OK, res.DryRun, r)
		}
		if res.Digest != d {
			t.Errorf("dry run resolved %s, expected %s", res.Digest, d)
		}
		if tags := p.tags(test); len(tags) != 0 {
			t.Errorf("a dry run must write nothing, yet test has tags %v", tags)
		}
		if recs := p.history(); len(recs) != 0 {
			t.Errorf("a dry run must record nothing, yet the ledger holds %+v", recs)
		}
		h := p.promote("history", "--limit", "5", "--env", "test")
		if h.Code != 0 {
			t.Errorf("global and command flags in any order should parse:\n%s", h)
		}
	})

	t.Run("bad config names file, line and field", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		body := "version: 1\n" +
			"environments:\n" +
			"  - name: dev\n" +
			"    repository: " + dev + "\n" +
			"    tags: mutable\n" +
			"    colour: blue\n"
		if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"history"}, {"to", "dev", "web:1.0"}} {
			r := p.promoteWith(bad, args...)
			if r.Code != 2 {
				t.Errorf("a config with an unknown field should exit 2:\n%s", r)
			}
			if !strings.Contains(r.Stderr, bad+":6") || !strings.Contains(r.Stderr, "colour") {
				t.Errorf("the config error should name %s:6 and the field colour:\n%s", bad, r)
			}
		}
		r := p.promoteWith(bad, "--output", "json", "history")
		doc := parseDocument(t, r)
		if r.Code != 2 || doc.OK || !strings.Contains(doc.Error, bad+":6") {
			t.Errorf("with --output json a config error should be one document, ok false, exit 2, naming %s:6:\n%s", bad, r)
		}
	})

	t.Run("json on error", func(t *testing.T) {
		for _, args := range [][]string{
			{"current", "test", "web", "extra", "--output", "json"},
			{"--output", "json", "to", "test", "web:1.0", "--no-such-flag"},
			{"--output", "json", "to", "staging", "web:1.0"},
			{"--output", "json", "current", "test", "web"},
		} {
			r := p.promote(args...)
			doc := parseDocument(t, r)
			if r.Code == 0 || doc.OK {
				t.Errorf("expected a failure reported as one JSON document with ok false:\n%s", r)
			}
		}
	})
}
