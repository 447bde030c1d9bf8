package attest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
)

type platformEvidence struct{ Platform, Base string }

func TestSummarizeKeepsScalarsAndCountsCollections(t *testing.T) {
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	got := Summarize(map[string]any{
		"key":       "keys/release.pub",
		"verified":  2,
		"ratio":     0.5,
		"ok":        true,
		"count":     json.Number("12"),
		"digest":    d,
		"built":     time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 7200)),
		"platforms": []platformEvidence{{"linux/amd64", "base"}, {"linux/arm64", "base"}},
		"counts":    map[string]int{"high": 0, "critical": 1},
		"bySource":  map[string]any{"trivy": map[string]int{"high": 0}},
		"many":      map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9},
		"detail":    platformEvidence{"linux/amd64", "base"},
		"nothing":   nil,
		"long":      strings.Repeat("é", 200),
	})
	assert.Equal(t, "keys/release.pub", got["key"])
	assert.EqualValues(t, 2, got["verified"])
	assert.Equal(t, 0.5, got["ratio"])
	assert.Equal(t, true, got["ok"])
	assert.Equal(t, json.Number("12"), got["count"])
	assert.Equal(t, d.String(), got["digest"], "a digest value is kept as its string")
	assert.Equal(t, "2026-01-02T01:04:05Z", got["built"])
	assert.Equal(t, 2, got["platforms"], "a list becomes its length")
	assert.Equal(t, map[string]any{"high": int64(0), "critical": int64(1)}, got["counts"], "a small object of scalars is kept")
	assert.Equal(t, 1, got["bySource"], "a nested object becomes its number of entries")
	assert.Equal(t, 9, got["many"], "so does a large one")
	assert.NotContains(t, got, "detail", "a struct is dropped")
	assert.NotContains(t, got, "nothing")
	long := got["long"].(string)
	assert.LessOrEqual(t, len(long), maxEvidenceText)
	assert.True(t, strings.HasSuffix(long, "…"))
	assert.True(t, strings.HasPrefix(long, "éé"), "cut on a rune boundary")
}

func TestSummarizeBoundsTheNumberOfKeys(t *testing.T) {
	ev := map[string]any{}
	for i := 0; i < 40; i++ {
		ev[fmt.Sprintf("k%02d", i)] = i
	}
	got := Summarize(ev)
	assert.Len(t, got, maxEvidenceKeys+1)
	assert.Equal(t, 40-maxEvidenceKeys, got["omitted"])
	assert.Contains(t, got, "k00")
	assert.NotContains(t, got, "k39", "the first keys in order are kept")
}

func TestSummarizeEmpty(t *testing.T) {
	assert.Nil(t, Summarize(nil))
	assert.Nil(t, Summarize(map[string]any{"detail": platformEvidence{}}), "nothing left to say is no evidence")
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", clip("short", 10))
	assert.Equal(t, "abcdefg…", clip("abcdefghijklmnop", 10))
	assert.Equal(t, "ü…", clip("üüüü", 5))
}

type label string

func TestSummarizeNamedKindsAndPointers(t *testing.T) {
	n := 3
	got := Summarize(map[string]any{
		"size":     uint64(42),
		"severity": label("high"),
		"ptr":      &n,
		"nilPtr":   (*int)(nil),
		"fn":       func() {},
	})
	assert.Equal(t, map[string]any{"size": uint64(42), "severity": "high"}, got, "named strings and unsigned numbers are kept; pointers and functions are dropped")
}
