package gates

import (
	"context"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Subject is everything a gate may read about one digest, fetched once by the
// engine: the manifest as stored, one Image per platform (one for a
// single-platform image) with its config, and what is attached to it
// (signatures, attestations, SBOMs). Layers are never part of it.
type Subject struct {
	Repository  string // the repository it was read from, without tag or digest
	Digest      v1.Hash
	MediaType   types.MediaType
	Manifest    []byte
	Images      []Image
	Attachments []Attachment
	// Reports are the scan reports given on the command line (--scan-report).
	Reports []Report
	// Now is the time the gates judge at (ignore-until dates, maximum ages).
	Now time.Time
	// Source reads more from registries (signature payloads, base images);
	// it never writes. Nil when a gate is judged offline in a test.
	Source Source
	// Scans reads the source registry's own scan of a platform image; nil
	// when the source repository is not in ECR.
	Scans RegistryScans
	// Evidence is the evidence document (package evidence) as JSON: set
	// by the engine once every other gate has judged, for the gates that
	// judge it (EvidenceJudge); nil before.
	Evidence []byte
}

// RegistryScans reads a registry's own vulnerability scan of one image.
type RegistryScans interface {
	// ScanFindings returns ECR's DescribeImageScanFindings result for
	// digest as JSON, every page merged, once the scan is finished (or an
	// error when ctx's deadline passes first). A missing scan has status
	// NOT_FOUND.
	ScanFindings(ctx context.Context, digest v1.Hash) ([]byte, error)
}

// Image is one platform of a Subject.
type Image struct {
	Platform  *v1.Platform // nil for a single-platform image without a platform in its config
	Digest    v1.Hash
	Manifest  []byte
	ConfigRaw []byte
	Config    *v1.ConfigFile
}

// Attachment is a manifest attached to the subject or to one of its
// platform images: an OCI 1.1 referrer (found through the referrers API or
// its sha256-<hex> tag schema) or a legacy cosign sha256-<hex>.sig/.att/.sbom tag.
type Attachment struct {
	Subject      v1.Hash // the digest it is attached to
	Digest       v1.Hash
	MediaType    types.MediaType
	ArtifactType string // artifactType, or the config media type
	Tag          string // the legacy cosign tag it lives under, if any
	Manifest     []byte
}

// Report is one scan report file.
type Report struct {
	Name string // where it came from (a file path)
	Data []byte
}

// Source reads from registries on a gate's behalf. Implementations verify
// digests and bound sizes; a gate never writes.
type Source interface {
	// Manifest fetches the manifest ref names (repo@digest or repo:tag).
	Manifest(ctx context.Context, ref string) (Manifest, error)
	// Blob reads a blob of repo of at most max bytes, verifying its digest.
	Blob(ctx context.Context, repo string, desc v1.Descriptor, max int64) ([]byte, error)
	// Referrers lists the manifests whose subject is digest in repo.
	Referrers(ctx context.Context, repo string, digest v1.Hash) ([]v1.Descriptor, error)
	// Tags lists the tags of repo.
	Tags(ctx context.Context, repo string) ([]string, error)
}

// Manifest is a manifest as a Source returns it.
type Manifest struct {
	Digest    v1.Hash
	MediaType types.MediaType
	Raw       []byte
}

// IsIndex reports whether the subject is a multi-platform index.
func (s *Subject) IsIndex() bool { return s.MediaType.IsIndex() }

// Digests returns the subject digest followed by every platform image's digest.
func (s *Subject) Digests() []v1.Hash {
	out := []v1.Hash{s.Digest}
	for _, img := range s.Images {
		if img.Digest != s.Digest {
			out = append(out, img.Digest)
		}
	}
	return out
}

// JudgedImage names one image manifest a gate judged.
type JudgedImage struct {
	Digest   string `json:"digest"`
	Platform string `json:"platform,omitempty"`
}

// Judged lists every image manifest of the subject, by digest and platform,
// for a gate's evidence: what it judged, so a record shows that no image of
// the promoted tree escaped it.
func (s *Subject) Judged() []JudgedImage {
	out := make([]JudgedImage, 0, len(s.Images))
	for _, img := range s.Images {
		j := JudgedImage{Digest: img.Digest.String()}
		if img.Platform != nil && img.Platform.OS != "" {
			j.Platform = PlatformName(img)
		}
		out = append(out, j)
	}
	return out
}

// ImageName names img for a reason or evidence key: its platform, followed
// by its digest when another image of s has the same platform (nested
// indexes may list one platform twice), so no image hides behind another.
func (s *Subject) ImageName(img Image) string {
	p := PlatformName(img)
	if p == img.Digest.String() {
		return p
	}
	for _, o := range s.Images {
		if o.Digest != img.Digest && PlatformName(o) == p {
			return p + "@" + img.Digest.String()
		}
	}
	return p
}
