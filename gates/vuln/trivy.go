package vuln

import (
	"encoding/json"
	"fmt"
	"strings"
)

// trivyReport is the part of Trivy's JSON (SchemaVersion 2) the gate reads.
// It accepts the 2021 layout (no Trivy, CreatedAt, Status, PkgIdentifier) and
// the current one alike; unknown fields are ignored.
type trivyReport struct {
	SchemaVersion int
	CreatedAt     string
	Trivy         struct {
		Version string
		// Server is set in client/server mode only; it is the one place a
		// Trivy report carries its vulnerability database's date.
		Server struct {
			Version         string
			VulnerabilityDB *struct {
				Version   int
				UpdatedAt string
			}
		}
	}
	ArtifactName string
	ArtifactType string
	Metadata     struct {
		ImageID     string
		RepoDigests []string
		ImageConfig struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		}
	}
	Results []struct {
		Target          string
		Class           string
		Type            string
		Vulnerabilities []trivyVuln
	}
}

type trivyVuln struct {
	VulnerabilityID  string
	VendorIDs        []string
	PkgName          string
	PkgIdentifier    struct{ PURL string }
	InstalledVersion string
	FixedVersion     string
	Status           string
	Severity         string
}

// ParseTrivy reads a Trivy JSON report (trivy image --format json, schema 2).
// It binds to Metadata.ImageID (the config digest) and Metadata.RepoDigests
// (repo@digest of the manifest or index pulled); ArtifactID is Trivy's own
// cache key, not a registry digest, and is not used. The database date is
// known only in client/server mode (Trivy.Server.VulnerabilityDB.UpdatedAt).
func ParseTrivy(data []byte) (*Report, error) {
	var t trivyReport
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	if t.SchemaVersion != 2 {
		return nil, fmt.Errorf("trivy report: SchemaVersion %d; only schema 2 is read", t.SchemaVersion)
	}
	scanned, err := parseScanTime("CreatedAt", t.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("trivy report: %w", err)
	}
	r := &Report{
		Format:         FormatTrivy,
		Scanner:        "trivy",
		ScannerVersion: t.Trivy.Version,
		ScannedAt:      scanned,
		ScannedAtField: "CreatedAt",
		Platform:       platformName(t.Metadata.ImageConfig.OS, t.Metadata.ImageConfig.Architecture, t.Metadata.ImageConfig.Variant),
	}
	if db := t.Trivy.Server.VulnerabilityDB; db != nil {
		r.DBUpdated = parseTime(db.UpdatedAt)
	}
	r.addDigest(t.Metadata.ImageID, ConfigDigest, "Metadata.ImageID")
	for i, rd := range t.Metadata.RepoDigests {
		r.addDigest(rd, ManifestDigest, fmt.Sprintf("Metadata.RepoDigests[%d]", i))
	}
	for ri, res := range t.Results {
		for vi, v := range res.Vulnerabilities {
			if v.VulnerabilityID == "" {
				return nil, fmt.Errorf("trivy report: Results[%d].Vulnerabilities[%d]: no VulnerabilityID", ri, vi)
			}
			r.Findings = append(r.Findings, Finding{
				ID:               v.VulnerabilityID,
				Aliases:          v.VendorIDs,
				Severity:         ParseSeverity(v.Severity),
				ScannerSeverity:  v.Severity,
				Package:          v.PkgName,
				InstalledVersion: v.InstalledVersion,
				FixedVersion:     v.FixedVersion,
				Fixable:          v.FixedVersion != "" || strings.EqualFold(v.Status, "fixed"),
				PURL:             v.PkgIdentifier.PURL,
				Target:           res.Target,
			})
		}
	}
	return r, nil
}
