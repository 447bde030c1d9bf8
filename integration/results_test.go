//go:build integration

package integration

import (
	"encoding/json"
	"sort"
)

// The shapes below mirror the JSON contract CI scripts parse (the result of
// `promote to`, `rollback` and `history` with --output json). They are
// written here, not imported, so that a renamed field breaks this suite.

type gateOutcome struct {
	Name     string         `json:"name"`
	Verdict  string         `json:"verdict"`
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence"`
}

type copyStats struct {
	BlobsCopied      int   `json:"blobsCopied"`
	BlobsMounted     int   `json:"blobsMounted"`
	BlobsPresent     int   `json:"blobsPresent"`
	Bytes            int64 `json:"bytes"`
	ManifestsWritten int   `json:"manifestsWritten"`
	ManifestsPresent int   `json:"manifestsPresent"`
}

type record struct {
	MediaType  string          `json:"mediaType"`
	ID         string          `json:"id"`
	Seq        int64           `json:"seq"`
	Kind       string          `json:"kind"`
	App        string          `json:"app"`
	Env        string          `json:"env"`
	From       string          `json:"from"`
	Repository string          `json:"repository"`
	Digest     string          `json:"digest"`
	Tags       []string        `json:"tags"`
	Targets    []string        `json:"targets"`
	Previous   string          `json:"previous"`
	Gates      []gateOutcome   `json:"gates"`
	Rejection  string          `json:"rejection"`
	Evidence   json.RawMessage `json:"evidence"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

type promotion struct {
	App         string        `json:"app"`
	Env         string        `json:"env"`
	From        string        `json:"from"`
	Digest      string        `json:"digest"`
	Repository  string        `json:"repository"`
	Gates       []gateOutcome `json:"gates"`
	Copy        *copyStats    `json:"copy"`
	Record      *record       `json:"record"`
	DryRun      bool          `json:"dryRun"`
	NothingToDo bool          `json:"nothingToDo"`
}

type historyResult struct {
	Records []record `json:"records"`
}

// gate returns the outcome of the gate called name, or nil.
func gate(gs []gateOutcome, name string) *gateOutcome {
	for i := range gs {
		if gs[i].Name == name {
			return &gs[i]
		}
	}
	return nil
}

// history runs `promote history ARGS --output json` and returns its records.
func (p *pipeline) history(args ...string) []record {
	p.t.Helper()
	r, doc := p.promoteJSON(append([]string{"history"}, args...)...)
	if r.Code != 0 {
		p.t.Fatalf("history failed:\n%s", r)
	}
	var h historyResult
	decodeResult(p.t, doc, &h)
	return h.Records
}

// bySeq sorts records oldest first.
func bySeq(recs []record) []record {
	out := append([]record(nil), recs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// verifyLedger runs `promote ledger verify` and fails unless it exits 0.
func (p *pipeline) verifyLedger() {
	p.t.Helper()
	r := p.promote("ledger", "verify")
	if r.Code != 0 {
		p.t.Fatalf("ledger verify should pass with exit 0:\n%s", r)
	}
}
