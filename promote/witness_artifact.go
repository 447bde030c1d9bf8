package promote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// The checkpoint artifact: an OCI image manifest whose artifactType is
// CheckpointArtifactType, with the OCI empty config and one layer of media
// type CheckpointNoteType holding the signed note's bytes, tagged
// checkpoint-<tree size> in each witness repository. The manifest is a
// function of the note alone (no time in it), so every publisher of one
// checkpoint writes the same digest, and a tag that names another digest
// is another checkpoint of the same size: a fork, or an impostor.
const (
	CheckpointArtifactType                 = "application/vnd.promote.ledger.checkpoint.v1"
	CheckpointNoteType     types.MediaType = "application/vnd.promote.ledger.checkpoint.v1+note"
	// CheckpointTagPrefix and the tree size in decimal make the tag.
	CheckpointTagPrefix = "checkpoint-"
	// MaxCheckpointNote bounds a note read from a witness: a checkpoint is
	// a few hundred bytes.
	MaxCheckpointNote = 64 << 10
	// Annotations of the manifest: for people and tools that list a
	// witness repository. They are not signed: trust only the note.
	AnnotationLedgerOrigin   = "dev.promote.ledger.origin"
	AnnotationLedgerTreeSize = "dev.promote.ledger.treeSize"
)

// emptyJSON is the OCI empty config, "{}".
var emptyJSON = []byte("{}")

// checkpointTag is the tag of the checkpoint of size leaves.
func checkpointTag(size int64) string { return CheckpointTagPrefix + strconv.FormatInt(size, 10) }

// checkpointSize reads the tree size a checkpoint tag names; ok is false
// for a tag without the prefix, and size is -1 for one whose rest is not
// a count as checkpointTag writes it.
func checkpointSize(tag string) (size int64, ok bool) {
	rest, ok := strings.CutPrefix(tag, CheckpointTagPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != rest {
		return -1, true
	}
	return n, true
}

// checkpointArtifact is the manifest that publishes note, a checkpoint of
// origin with size leaves.
func checkpointArtifact(note []byte, origin string, size int64) (*registry.Manifest, error) {
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  CheckpointArtifactType,
		Config:        blobDescriptor(types.OCIEmptyJSON, emptyJSON),
		Layers:        []v1.Descriptor{blobDescriptor(CheckpointNoteType, note)},
		Annotations: map[string]string{
			AnnotationLedgerOrigin:   origin,
			AnnotationLedgerTreeSize: strconv.FormatInt(size, 10),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the checkpoint artifact: %w", err)
	}
	return &registry.Manifest{Digest: sha256Hash(raw), Type: types.OCIManifestSchema1, Raw: raw}, nil
}

func blobDescriptor(mt types.MediaType, data []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: mt, Digest: sha256Hash(data), Size: int64(len(data))}
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// witnessedNote is what one checkpoint tag of a witness holds: the note,
// or what the tag holds instead and why that is no checkpoint (problem,
// a clause such as "it holds a container image (...)").
type witnessedNote struct {
	digest  v1.Hash
	note    []byte
	problem string
}

// notArtifact ends the problem of a tag that holds something else than a
// checkpoint artifact.
const notArtifact = " (a checkpoint is an artifact of type " + CheckpointArtifactType + ")"

// readCheckpoint reads the note that tag (checkpoint-size) of repo holds.
// A tag that holds no checkpoint of size leaves is a problem, not an
// error; errors are the registry's (and a missing tag: errs.ErrNotFound).
func (e *Engine) readCheckpoint(ctx context.Context, repo name.Repository, tag string, size int64) (witnessedNote, error) {
	ref, err := e.reg.Tag(repo, tag)
	if err != nil {
		return witnessedNote{problem: "its name is not a valid tag"}, nil
	}
	m, err := e.rd.Get(ctx, ref)
	if err != nil {
		return witnessedNote{}, err
	}
	w := witnessedNote{digest: m.Digest}
	var man v1.Manifest
	if err := json.Unmarshal(m.Raw, &man); err != nil {
		w.problem = fmt.Sprintf("it holds a manifest of media type %s that does not read as an image manifest%s", m.Type, notArtifact)
		return w, nil
	}
	switch {
	case man.ArtifactType != CheckpointArtifactType:
		w.problem = "it holds " + manifestKind(m.Type, man) + notArtifact
	case len(man.Layers) != 1 || man.Layers[0].MediaType != CheckpointNoteType:
		w.problem = fmt.Sprintf("it holds a checkpoint artifact of %d layers, not the one layer of media type %s a checkpoint has",
			len(man.Layers), CheckpointNoteType)
	case man.Layers[0].Size > MaxCheckpointNote || man.Layers[0].Size < 0:
		w.problem = fmt.Sprintf("it holds a note of %d bytes, more than the %d a checkpoint may be (not read)", man.Layers[0].Size, MaxCheckpointNote)
	case size < 0:
		w.problem = "it holds a checkpoint artifact, but its tag names no tree size (ledger publish tags a checkpoint of N leaves checkpoint-N)"
	}
	if w.problem != "" {
		return w, nil
	}
	if w.note, err = e.rd.FetchBlob(ctx, repo, man.Layers[0], MaxCheckpointNote); err != nil {
		return witnessedNote{}, fmt.Errorf("reading %s:%s: %w", repo, tag, err)
	}
	switch cp, err := ledger.ParseNote(w.note); {
	case err != nil:
		w.note, w.problem = nil, fmt.Sprintf("it holds a note that is not a checkpoint: %v", err)
	case cp.Size != size:
		w.note, w.problem = nil, fmt.Sprintf("it holds a checkpoint of %s, not of %d as its tag says", leafCount(cp.Size), size)
	}
	return w, nil
}

// manifestKind says what kind of thing a manifest of media type mt, read
// as man, is: "a container image", "an artifact of type ...".
func manifestKind(mt types.MediaType, man v1.Manifest) string {
	switch {
	case mt.IsIndex():
		return "an image index"
	case man.ArtifactType != "":
		return "an artifact of type " + man.ArtifactType
	case mt == types.DockerManifestSchema2, man.Config.MediaType == types.OCIConfigJSON, man.Config.MediaType == types.DockerConfigJSON:
		return "a container image"
	case mt == types.OCIManifestSchema1 && man.Config.MediaType != "":
		return "an artifact of type " + string(man.Config.MediaType)
	case mt.IsSchema1():
		return "a container image (Docker schema 1)"
	}
	return fmt.Sprintf("a manifest of media type %q", mt)
}

// leafCount is n leaves, with the noun that fits.
func leafCount(n int64) string {
	if n == 1 {
		return "1 leaf"
	}
	return fmt.Sprintf("%d leaves", n)
}
