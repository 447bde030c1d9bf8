package gates

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Subject is everything a gate may read about one digest, fetched once by the
// engine: the manifest as stored, one Image per platform (one for a
// single-platform image) with its config, and the referrers attached to it.
// Layers are never part of it.
type Subject struct {
	Repository string // the repository it was read from, without tag or digest
	Digest     v1.Hash
	MediaType  types.MediaType
	Manifest   []byte
	Images     []Image
	Referrers  []v1.Descriptor
}

// Image is one platform of a Subject.
type Image struct {
	Platform  *v1.Platform // nil for a single-platform image without a platform in its config
	Digest    v1.Hash
	Manifest  []byte
	ConfigRaw []byte
	Config    *v1.ConfigFile
}

// IsIndex reports whether the subject is a multi-platform index.
func (s *Subject) IsIndex() bool { return s.MediaType.IsIndex() }
