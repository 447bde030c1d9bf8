package ecremu

import (
	"fmt"
	"strings"
)

// Storing a manifest is one rule set shared by the data plane (PUT
// /v2/<name>/manifests/<ref>) and the control plane (PutImage); each plane
// maps a putError onto its own error vocabulary.

type putErrorKind int

const (
	errManifestInvalid putErrorKind = iota // MANIFEST_INVALID / InvalidParameterException
	errDigestMismatch                      // DIGEST_INVALID / ImageDigestDoesNotMatchException
	errBlobsMissing                        // MANIFEST_BLOB_UNKNOWN / LayersNotFoundException
	errChildrenMissing                     // MANIFEST_BLOB_UNKNOWN / ReferencedImagesNotFoundException
	errTagInvalid                          // TAG_INVALID / InvalidParameterException
	errTagImmutable                        // TAG_INVALID / ImageTagAlreadyExistsException
	errAlreadyExists                       // (data plane: success) / ImageAlreadyExistsException
)

type putError struct {
	kind    putErrorKind
	msg     string
	tag     string
	digest  string
	missing []string
}

func (e *putError) Error() string { return e.msg }

// putRequest is one manifest write.
type putRequest struct {
	body       []byte
	mediaType  string // Content-Type / imageManifestMediaType; may be empty
	tag        string // "" for a push by digest
	wantDigest string // digest the caller named, if any
	control    bool   // PutImage semantics (ImageAlreadyExistsException)
}

// putManifest validates and stores a manifest in repo, under tag if given.
// The caller holds s.mu. It returns the manifest's digest.
func (s *Server) putManifest(repo *repository, req putRequest) (string, *putError) {
	digest := digestOf(req.body)
	if req.wantDigest != "" && req.wantDigest != digest {
		return "", &putError{kind: errDigestMismatch, digest: req.wantDigest,
			msg: fmt.Sprintf("manifest digest %s does not match the digest %s given", digest, req.wantDigest)}
	}
	info, err := parseManifest(req.body, req.mediaType)
	if err != nil {
		return "", &putError{kind: errManifestInvalid, msg: err.Error()}
	}
	if req.tag != "" && !validTag(req.tag) {
		return "", &putError{kind: errTagInvalid, tag: req.tag, msg: fmt.Sprintf("invalid image tag '%s'", req.tag)}
	}
	var missing []string
	for _, b := range info.blobs {
		if !repo.blobs[b] {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", &putError{kind: errBlobsMissing, missing: missing,
			msg: fmt.Sprintf("Layers with digests '[%s]' required for pushing image into repository with name '%s' do not exist", strings.Join(missing, ", "), repo.name)}
	}
	for _, c := range info.children {
		if repo.images[c] == nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return "", &putError{kind: errChildrenMissing, missing: missing,
			msg: fmt.Sprintf("Images with digests '[%s]' required for pushing image into repository with name '%s' do not exist", strings.Join(missing, ", "), repo.name)}
	}
	if req.tag != "" {
		if perr := repo.checkTagWrite(req.tag); perr != nil {
			perr.msg = tagImmutableMessage(req.tag, repo.name)
			return "", perr
		}
	}
	existing := repo.images[digest]
	if req.control && existing != nil && (req.tag == "" || repo.tagIndex[req.tag] == digest) {
		msg := fmt.Sprintf("Image with digest '%s' already exists in the repository with name '%s'", digest, repo.name)
		if req.tag != "" {
			msg = fmt.Sprintf("Image with digest '%s' and tag '%s' already exists in the repository with name '%s'", digest, req.tag, repo.name)
		}
		return "", &putError{kind: errAlreadyExists, digest: digest, tag: req.tag, msg: msg}
	}
	if existing == nil {
		mt := info.mediaType
		repo.images[digest] = &image{digest: digest, manifest: append([]byte(nil), req.body...),
			mediaType: mt, pushedAt: s.now(), info: info}
	}
	if req.tag != "" {
		repo.tagIndex[req.tag] = digest
	}
	return digest, nil
}

// deleteImage removes an image and every tag naming it.
func (repo *repository) deleteImage(digest string) {
	delete(repo.images, digest)
	delete(repo.scans, digest)
	for t, d := range repo.tagIndex {
		if d == digest {
			delete(repo.tagIndex, t)
		}
	}
}
