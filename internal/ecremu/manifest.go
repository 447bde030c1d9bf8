package ecremu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"regexp"
)

// Manifest media types ECR accepts (schema 1 is not emulated).
const (
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

var manifestTypes = map[string]bool{
	MediaTypeDockerManifest: false, MediaTypeOCIManifest: false,
	MediaTypeDockerList: true, MediaTypeOCIIndex: true,
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type manifestDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// manifestInfo is what the emulator needs to know about a stored manifest.
type manifestInfo struct {
	mediaType    string
	isIndex      bool
	blobs        []string // config and layers, which must be in the repository
	children     []string // an index's manifests, which must be in the repository
	subject      string
	artifactType string // for the referrers API: artifactType, else config media type
	configType   string
	annotations  map[string]string
	size         int64 // sum of layer sizes (ECR's imageSizeInBytes, approximately)
}

var digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

func validDigest(d string) bool { return digestPattern.MatchString(d) }

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// parseManifest validates a manifest as ECR does on push. contentType may be
// empty, in which case the manifest's own mediaType field decides.
func parseManifest(body []byte, contentType string) (*manifestInfo, error) {
	var doc manifestDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %v", err)
	}
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			contentType = mt
		}
	}
	mt := contentType
	if mt == "" {
		mt = doc.MediaType
	}
	if doc.MediaType != "" && doc.MediaType != mt {
		return nil, fmt.Errorf("manifest mediaType %q does not match %q", doc.MediaType, mt)
	}
	isIndex, ok := manifestTypes[mt]
	if !ok {
		return nil, fmt.Errorf("unsupported manifest media type %q", mt)
	}
	if doc.SchemaVersion != 2 {
		return nil, fmt.Errorf("unsupported manifest schemaVersion %d", doc.SchemaVersion)
	}
	info := &manifestInfo{mediaType: mt, isIndex: isIndex, annotations: doc.Annotations, artifactType: doc.ArtifactType}
	if doc.Subject != nil {
		if !validDigest(doc.Subject.Digest) {
			return nil, fmt.Errorf("invalid subject digest %q", doc.Subject.Digest)
		}
		info.subject = doc.Subject.Digest
	}
	if isIndex {
		for _, m := range doc.Manifests {
			if !validDigest(m.Digest) {
				return nil, fmt.Errorf("invalid manifest digest %q", m.Digest)
			}
			info.children = append(info.children, m.Digest)
		}
		return info, nil
	}
	if doc.Config == nil || !validDigest(doc.Config.Digest) {
		return nil, fmt.Errorf("manifest has no valid config descriptor")
	}
	info.configType = doc.Config.MediaType
	if info.artifactType == "" {
		info.artifactType = doc.Config.MediaType
	}
	info.blobs = append(info.blobs, doc.Config.Digest)
	for _, l := range doc.Layers {
		if !validDigest(l.Digest) {
			return nil, fmt.Errorf("invalid layer digest %q", l.Digest)
		}
		info.blobs = append(info.blobs, l.Digest)
		info.size += l.Size
	}
	return info, nil
}

// artifactMediaType is what DescribeImages reports as artifactMediaType.
func (i *manifestInfo) artifactMediaType() string {
	if i.isIndex {
		return i.artifactType
	}
	return i.configType
}
