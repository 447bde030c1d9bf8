package vuln

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectRefusesWhatItCannotRead(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"empty", "  ", "empty file"},
		{"not json", `{"SchemaVersion": 2,`, "not valid JSON"},
		{"truncated list", `[{"Target": "x"`, "not valid JSON"},
		{"legacy trivy list", `[{"Target": "alpine", "Vulnerabilities": []}]`, "top-level JSON list"},
		{"trivy schema 1", `{"SchemaVersion": 1, "Results": []}`, "SchemaVersion 1"},
		{"trivy schema 2 without results", `{"SchemaVersion": 2}`, "without Results"},
		{"other statement", `{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}`, "slsa.dev"},
		{"sbom", `{"bomFormat": "CycloneDX", "specVersion": "1.5"}`, "expected Trivy JSON"},
		{"scalar", `42`, "not valid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestDetectFormats(t *testing.T) {
	for data, want := range map[string]Format{
		`{"SchemaVersion": 2, "ArtifactName": "x"}`:                      FormatTrivy,
		`{"matches": [], "descriptor": {"name": "grype"}}`:               FormatGrype,
		`{"imageScanStatus": {"status": "IN_PROGRESS"}}`:                 FormatECR,
		`{"payloadType": "application/vnd.in-toto+json", "payload": ""}`: FormatDSSE,
		`{"scanner": {"result": null}, "invocation": {}}`:                FormatCosignVuln,
	} {
		got, err := Detect([]byte(data))
		require.NoError(t, err, data)
		assert.Equal(t, want, got, data)
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{
		"CRITICAL": Critical, "Critical": Critical, "HIGH": High, "Medium": Medium, "LOW": Low,
		"Negligible": Low, "INFORMATIONAL": Low, "UNKNOWN": Unknown, "Unknown": Unknown,
		"UNDEFINED": Unknown, "UNTRIAGED": Unknown, "": Unknown, "bogus": Unknown,
	} {
		assert.Equal(t, want, ParseSeverity(in), in)
	}
	assert.True(t, Unknown < Low && Low < Medium && Medium < High && High < Critical)
	assert.Equal(t, "CRITICAL", Critical.String())
	assert.Equal(t, "UNKNOWN", Severity(42).String())
}

func TestDigestOf(t *testing.T) {
	hex := "74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6"
	assert.Equal(t, "sha256:"+hex, digestOf("sha256:"+hex))
	assert.Equal(t, "sha256:"+hex, digestOf("registry:5000/app@sha256:"+hex))
	assert.Empty(t, digestOf("sha256:"+hex[:10]))
	assert.Empty(t, digestOf("SHA256:"+hex))
	assert.Empty(t, digestOf("md5:"+hex))
	assert.Empty(t, digestOf(""))
}
