package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// report writes a copy of a Trivy JSON report (schema 2) bound to
// REPO@DIGEST and dated now: its ArtifactName and Metadata.RepoDigests name
// the digest and its CreatedAt is the current time, as `trivy image
// REPO@DIGEST` run now would write them (the scan gate refuses scans older
// than maxReportAge). The demo uses real reports from the scanners'
// projects (testdata/scan) this way; nothing else changes.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	from := fs.String("from", "", "Trivy JSON report to bind")
	out := fs.String("out", "", "where to write the bound report")
	if len(args) < 1 {
		return fmt.Errorf("report: missing REPO@DIGEST")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ref, err := name.NewDigest(args[0])
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if *from == "" || *out == "" {
		return fmt.Errorf("report: --from and --out are required")
	}
	raw, err := os.ReadFile(*from)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("report: %s: %w", *from, err)
	}
	if v, _ := doc["SchemaVersion"].(float64); v != 2 {
		return fmt.Errorf("report: %s is not a Trivy schema 2 report", *from)
	}
	meta, _ := doc["Metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["RepoDigests"] = []string{ref.String()}
	delete(meta, "ImageID")
	doc["Metadata"] = meta
	doc["ArtifactName"] = ref.String()
	doc["ArtifactType"] = "container_image"
	doc["CreatedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Printf("bound %s to %s (%s)\n", strings.TrimPrefix(*from, "./"), ref.DigestStr()[:19], *out)
	return nil
}
