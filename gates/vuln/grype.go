package vuln

import (
	"encoding/json"
	"fmt"
	"strings"
)

// grypeDoc is the part of Grype's JSON document (grype -o json) the gate reads.
type grypeDoc struct {
	Matches        []grypeMatch      `json:"matches"`
	IgnoredMatches []json.RawMessage `json:"ignoredMatches"`
	Source         struct {
		Type   string          `json:"type"`
		Target json.RawMessage `json:"target"` // an object for images, a string otherwise
	} `json:"source"`
	Descriptor struct {
		Name      string          `json:"name"`
		Version   string          `json:"version"`
		Timestamp string          `json:"timestamp"`
		DB        json.RawMessage `json:"db"`
	} `json:"descriptor"`
}

type grypeMatch struct {
	Vulnerability struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
		Fix      struct {
			Versions []string `json:"versions"`
			State    string   `json:"state"`
		} `json:"fix"`
	} `json:"vulnerability"`
	RelatedVulnerabilities []struct {
		ID string `json:"id"`
	} `json:"relatedVulnerabilities"`
	Artifact struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Type    string `json:"type"`
		PURL    string `json:"purl"`
	} `json:"artifact"`
}

// grypeImage is source.target when source.type is "image".
type grypeImage struct {
	ImageID        string   `json:"imageID"`
	ManifestDigest string   `json:"manifestDigest"`
	RepoDigests    []string `json:"repoDigests"`
	Architecture   string   `json:"architecture"`
	OS             string   `json:"os"`
	Variant        string   `json:"variant"`
}

// grypeDB covers both places Grype has put its database status:
// descriptor.db.built (Grype < 0.88, schema v5) and descriptor.db.status.built.
type grypeDB struct {
	Built  string `json:"built"`
	Status *struct {
		Built string `json:"built"`
	} `json:"status"`
}

// ParseGrype reads a Grype JSON document. For an image source it binds to
// source.target.imageID (config digest), .manifestDigest and .repoDigests; a
// directory, SBOM or unknown source names no digest. The database date is
// descriptor.db.built or descriptor.db.status.built.
func ParseGrype(data []byte) (*Report, error) {
	var g grypeDoc
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("grype report: %w", err)
	}
	name := g.Descriptor.Name
	if name == "" {
		name = "grype"
	}
	scanned, err := parseScanTime("descriptor.timestamp", g.Descriptor.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("grype report: %w", err)
	}
	r := &Report{
		Format:         FormatGrype,
		Scanner:        name,
		ScannerVersion: g.Descriptor.Version,
		ScannedAt:      scanned,
		ScannedAtField: "descriptor.timestamp",
		ScannerIgnored: len(g.IgnoredMatches),
	}
	if r.ScannerVersion == "[not provided]" {
		r.ScannerVersion = ""
	}
	if len(g.Descriptor.DB) > 0 {
		var db grypeDB
		if json.Unmarshal(g.Descriptor.DB, &db) == nil {
			built := db.Built
			if db.Status != nil && db.Status.Built != "" {
				built = db.Status.Built
			}
			r.DBUpdated = parseTime(built)
		}
	}
	if g.Source.Type == "image" && len(g.Source.Target) > 0 && g.Source.Target[0] == '{' {
		var img grypeImage
		if err := json.Unmarshal(g.Source.Target, &img); err != nil {
			return nil, fmt.Errorf("grype report: source.target: %w", err)
		}
		r.addDigest(img.ImageID, ConfigDigest, "source.target.imageID")
		r.addDigest(img.ManifestDigest, ManifestDigest, "source.target.manifestDigest")
		for i, rd := range img.RepoDigests {
			r.addDigest(rd, ManifestDigest, fmt.Sprintf("source.target.repoDigests[%d]", i))
		}
		r.Platform = platformName(img.OS, img.Architecture, img.Variant)
	}
	for i, m := range g.Matches {
		v := m.Vulnerability
		if v.ID == "" {
			return nil, fmt.Errorf("grype report: matches[%d]: no vulnerability.id", i)
		}
		var aliases []string
		for _, rel := range m.RelatedVulnerabilities {
			if rel.ID != "" && rel.ID != v.ID {
				aliases = append(aliases, rel.ID)
			}
		}
		r.Findings = append(r.Findings, Finding{
			ID:               v.ID,
			Aliases:          aliases,
			Severity:         ParseSeverity(v.Severity),
			ScannerSeverity:  v.Severity,
			Package:          m.Artifact.Name,
			InstalledVersion: m.Artifact.Version,
			FixedVersion:     strings.Join(v.Fix.Versions, ", "),
			Fixable:          strings.EqualFold(v.Fix.State, "fixed"),
			PURL:             m.Artifact.PURL,
			Target:           m.Artifact.Type,
		})
	}
	return r, nil
}
