package attest

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden statements in testdata/attest")

// The statement of a prod promotion is pinned byte for byte: a change to
// the predicate is a change of an admission contract.
func TestStatementJSONIsGolden(t *testing.T) {
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	payload, err := st.Payload()
	require.NoError(t, err)
	golden := filepath.Join(fixtures, "statement.golden.json")
	if *update {
		var pretty map[string]any
		require.NoError(t, json.Unmarshal(payload, &pretty))
		b, err := json.MarshalIndent(pretty, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(golden, append(b, '\n'), 0o644))
	}
	assert.JSONEq(t, string(fixture(t, "statement.golden.json")), string(payload))
}

func TestStatementFields(t *testing.T) {
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	var doc struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string         `json:"predicateType"`
		Predicate     map[string]any `json:"predicate"`
	}
	payload, err := st.Payload()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(payload, &doc))

	assert.Equal(t, "https://in-toto.io/Statement/v1", doc.Type)
	assert.Equal(t, "https://promote.dev/attestation/promotion/v1", doc.PredicateType)
	require.Len(t, doc.Subject, 1)
	assert.Equal(t, "registry.example/prod/web", doc.Subject[0].Name)
	assert.Equal(t, map[string]string{"sha256": strings.TrimPrefix(testDigest, "sha256:")}, doc.Subject[0].Digest)

	p := doc.Predicate
	assert.Equal(t, "prod", p["environment"], "admission policies match on the top-level environment")
	assert.Equal(t, "registry.example/prod/web@"+testDigest, p["target"].(map[string]any)["reference"])
	assert.Equal(t, "2026-11-24T08:30:00Z", p["time"], "time is UTC")
	assert.Equal(t, map[string]any{"id": "01JDQ4Z8M5X7W2K9T3V6B1N0PR", "seq": float64(7),
		"hash": "sha256:5d41402abc4b2a76b9719d911017c592ae2c5e1c4e6f2a3b7c9d0e1f2a3b4c5d"}, p["record"])
	signed := p["gates"].([]any)[0].(map[string]any)["evidence"]
	assert.Equal(t, map[string]any{"candidates": float64(2), "key": "keys/release.pub", "keyId": "3f2a9c0d1e2b4a5c",
		"rejected": float64(1), "verified": float64(1)}, signed, "lists become counts")
}

func TestBuildStatementIsPure(t *testing.T) {
	p := promotion("registry.example/prod/web", testDigest)
	a, err := BuildStatement(p)
	require.NoError(t, err)
	p.Tags[0] = "changed"
	b, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	pa, _ := a.Payload()
	pb, _ := b.Payload()
	assert.Equal(t, string(pb), string(pa), "the statement keeps no reference to the caller's slices")
}

func TestBuildStatementRefusesIncompletePromotions(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*Promotion)
		want string
	}{
		"tag, not digest":  {func(p *Promotion) { p.Digest = "1.4.2" }, `digest "1.4.2" is not a sha256 digest`},
		"sha512 digest":    {func(p *Promotion) { p.Digest = "sha512:" + strings.Repeat("ab", 64) }, "not a sha256 digest"},
		"no environment":   {func(p *Promotion) { p.Environment = "" }, "lacks environment"},
		"no record":        {func(p *Promotion) { p.Record = RecordRef{} }, "lacks record id, record hash"},
		"no time":          {func(p *Promotion) { p.Time = time.Time{} }, "lacks time"},
		"no app, no repo":  {func(p *Promotion) { p.App, p.Repository = "", " " }, "lacks app, repository"},
		"blank record sha": {func(p *Promotion) { p.Record.Hash = "" }, "lacks record hash"},
	} {
		t.Run(name, func(t *testing.T) {
			p := promotion("registry.example/prod/web", testDigest)
			c.edit(&p)
			_, err := BuildStatement(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestPayloadRefusesForeignStatements(t *testing.T) {
	st, err := BuildStatement(promotion("registry.example/prod/web", testDigest))
	require.NoError(t, err)
	other := st
	other.PredicateType = "https://slsa.dev/provenance/v1"
	_, err = other.Payload()
	assert.ErrorContains(t, err, "not a promotion statement")
	other = st
	other.Subject = nil
	_, err = other.Payload()
	assert.ErrorContains(t, err, "exactly one sha256 subject")
}
