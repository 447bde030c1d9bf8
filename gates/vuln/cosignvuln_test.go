package vuln

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vulnPredicate wraps a scanner's output the way cosign attest --type vuln does.
func vulnPredicate(t *testing.T, result json.RawMessage) []byte {
	t.Helper()
	p := map[string]any{
		"invocation": map[string]any{"uri": "ci.example.com/pipeline/1"},
		"scanner":    map[string]any{"uri": "pkg:github/aquasecurity/trivy", "version": "0.50.1", "db": map[string]any{"uri": "ghcr.io/aquasecurity/trivy-db", "version": "2"}, "result": result},
		"metadata":   map[string]any{"scanStartedOn": "2026-01-05T10:00:00Z", "scanFinishedOn": "2026-01-05T10:01:00Z"},
	}
	data, err := json.Marshal(p)
	require.NoError(t, err)
	return data
}

func TestCosignVulnWithTrivyResult(t *testing.T) {
	trivy, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "scan", "trivy-photon-30.json"))
	require.NoError(t, err)
	pred := vulnPredicate(t, trivy)

	r, err := Parse(pred)
	require.NoError(t, err)
	assert.Equal(t, FormatCosignVuln, r.Format)
	assert.Equal(t, "trivy", r.Scanner, "the embedded report names its scanner")
	assert.Equal(t, "dev", r.ScannerVersion, "the embedded report's version wins over the predicate's")
	assert.Equal(t, "ghcr.io/aquasecurity/trivy-db 2", r.DBVersion)
	assert.Equal(t, time.Date(2021, 8, 25, 12, 20, 30, 5, time.UTC), r.ScannedAt, "the result says it ran before scanFinishedOn: the earlier time dates it")
	assert.Equal(t, "scanner.result.CreatedAt", r.ScannedAtField)
	assert.Equal(t, 2, r.Counts()[Critical])
	assert.Equal(t, 1, r.Counts()[High])

	subject := "3c19aa980a9c5709a2c96c2d0779febf6e5e453b92b172ce84cb85fdaf695373"
	st, err := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v1", "predicateType": PredicateCosignVuln,
		"subject":   []any{map[string]any{"name": "registry.local/web", "digest": map[string]string{"sha256": subject}}},
		"predicate": json.RawMessage(pred),
	})
	require.NoError(t, err)
	r, err = Parse(st)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(r.Digests), 2)
	assert.Equal(t, Digest{Value: "sha256:" + subject, Kind: ManifestDigest, Field: "subject[0].digest.sha256"}, r.Digests[0])
	assert.Equal(t, "Metadata.ImageID", r.Digests[1].Field, "the embedded report's digests are kept")
}

func TestCosignVulnScanTime(t *testing.T) {
	trivy := func(createdAt string) json.RawMessage {
		return json.RawMessage(`{"SchemaVersion": 2, "ArtifactName": "web", "CreatedAt": "` + createdAt + `", "Results": []}`)
	}
	finished := time.Date(2026, 1, 5, 10, 1, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		result json.RawMessage
		at     time.Time
		field  string
	}{
		"no result":                 {json.RawMessage(`null`), finished, "metadata.scanFinishedOn"},
		"result made just before":   {trivy("2026-01-05T10:00:30Z"), time.Date(2026, 1, 5, 10, 0, 30, 0, time.UTC), "scanner.result.CreatedAt"},
		"result dated after finish": {trivy("2026-01-05T11:00:00Z"), finished, "metadata.scanFinishedOn"},
		"undated result":            {trivy(""), finished, "metadata.scanFinishedOn"},
	} {
		r, err := Parse(vulnPredicate(t, c.result))
		require.NoError(t, err, name)
		assert.Equal(t, c.at, r.ScannedAt, name)
		assert.Equal(t, c.field, r.ScannedAtField, name)
	}

	// Zero timestamps, as cosign's own empty example carries, leave it undated.
	r, err := Parse([]byte(`{"invocation": {}, "scanner": {"uri": "x", "result": null}, "metadata": {"scanStartedOn": "0001-01-01T00:00:00Z", "scanFinishedOn": "0001-01-01T00:00:00Z"}}`))
	require.NoError(t, err)
	assert.True(t, r.ScannedAt.IsZero())
	assert.Equal(t, "metadata.scanFinishedOn", r.ScannedAtField)

	// A scan time that cannot be read is an error, not an undated scan.
	for _, data := range []string{
		`{"invocation": {}, "scanner": {"uri": "x"}, "metadata": {"scanFinishedOn": "yesterday"}}`,
		`{"SchemaVersion": 2, "ArtifactName": "web", "CreatedAt": "25/08/2021", "Results": []}`,
		`{"matches": [], "descriptor": {"name": "grype", "timestamp": "soon"}}`,
		`{"imageScanStatus": {"status": "COMPLETE"}, "imageScanFindings": {"imageScanCompletedAt": "last week"}}`,
	} {
		_, err := Parse([]byte(data))
		assert.ErrorContains(t, err, "is not an RFC 3339 time", data)
	}
}

func TestCosignVulnRefusesUncountableResults(t *testing.T) {
	_, err := Parse(vulnPredicate(t, json.RawMessage(`{"vulnerabilities": [{"id": "CVE-1"}]}`)))
	assert.ErrorContains(t, err, "scanner.result")
	_, err = Parse(vulnPredicate(t, json.RawMessage(`{"imageScanFindings": {}}`)))
	assert.ErrorContains(t, err, "scanner.result is ecr")
	_, err = ParseCosignVulnStatement([]byte(`{"_type": "x", "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}`))
	assert.ErrorContains(t, err, "predicateType")

	r, err := Parse(vulnPredicate(t, json.RawMessage(`null`)))
	require.NoError(t, err)
	assert.Empty(t, r.Findings)
	assert.Equal(t, "pkg:github/aquasecurity/trivy", r.Scanner)
	assert.Equal(t, "0.50.1", r.ScannerVersion)
}
