package ecremu

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Manifests by tag or digest, stored and served byte for byte.

const maxManifestSize = 4 << 20

func (c *regCall) manifest() {
	switch c.r.Method {
	case http.MethodPut:
		c.putManifest()
	case http.MethodDelete:
		c.deleteManifest()
	default:
		c.getManifest()
	}
}

// checkRef validates a tag-or-digest reference.
func (c *regCall) checkRef() (isDigest, ok bool) {
	if strings.Contains(c.ref, ":") {
		if !validDigest(c.ref) {
			c.fail(http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest format: '"+c.ref+"'")
			return true, false
		}
		return true, true
	}
	if !validTag(c.ref) {
		c.fail(http.StatusBadRequest, "TAG_INVALID", "Invalid image tag: '"+c.ref+"'")
		return false, false
	}
	return false, true
}

func (c *regCall) getManifest() {
	isDigest, ok := c.checkRef()
	if !ok {
		return
	}
	c.s.mu.Lock()
	var img *image
	if repo := c.repoLocked(); repo != nil {
		if isDigest {
			img, _ = repo.resolve(c.ref, "")
		} else {
			img, _ = repo.resolve("", c.ref)
		}
	}
	c.s.mu.Unlock()
	if img == nil {
		c.fail(http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
		return
	}
	if msg := notAccepted(c.r.Header.Values("Accept"), img.mediaType); msg != "" {
		c.fail(http.StatusNotFound, "MANIFEST_UNKNOWN", msg)
		return
	}
	h := c.w.Header()
	h.Set("Content-Type", img.mediaType)
	h.Set("Docker-Content-Digest", img.digest)
	h.Set("Content-Length", strconv.Itoa(len(img.manifest)))
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodGet {
		_, _ = c.w.Write(img.manifest)
	}
}

// notAccepted applies the Accept header. ECR refuses to serve an OCI index or
// manifest to a client that does not accept it; the emulator does the same
// for every type (ECR would convert Docker manifests to schema 1 instead).
// No Accept header serves the manifest as stored.
func notAccepted(accept []string, mediaType string) string {
	if len(accept) == 0 {
		return ""
	}
	for _, a := range accept {
		for _, part := range strings.Split(a, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && (mt == mediaType || mt == "*/*") {
				return ""
			}
		}
	}
	switch mediaType {
	case MediaTypeOCIIndex:
		return "OCI index found, but accept header does not support OCI indexes"
	case MediaTypeOCIManifest:
		return "OCI manifest found, but accept header does not support OCI manifests"
	}
	return "Manifest of type '" + mediaType + "' found, but accept header does not support it"
}

func (c *regCall) putManifest() {
	isDigest, ok := c.checkRef()
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxManifestSize+1))
	if err != nil || len(body) > maxManifestSize {
		c.fail(http.StatusBadRequest, "MANIFEST_INVALID", "manifest is unreadable or larger than 4 MiB")
		return
	}
	req := putRequest{body: body, mediaType: c.r.Header.Get("Content-Type")}
	if isDigest {
		req.wantDigest = c.ref
	} else {
		req.tag = c.ref
	}
	c.s.mu.Lock()
	var digest string
	var perr *putError
	if repo := c.repoLocked(); repo != nil {
		digest, perr = c.s.putManifest(repo, req)
	}
	var subject string
	if perr == nil {
		subject = c.repoLocked().images[digest].info.subject
	}
	c.s.mu.Unlock()
	if perr != nil {
		code := map[putErrorKind]string{
			errManifestInvalid: "MANIFEST_INVALID", errDigestMismatch: "DIGEST_INVALID",
			errBlobsMissing: "MANIFEST_BLOB_UNKNOWN", errChildrenMissing: "MANIFEST_BLOB_UNKNOWN",
			errTagInvalid: "TAG_INVALID", errTagImmutable: "TAG_INVALID",
		}[perr.kind]
		c.fail(http.StatusBadRequest, code, perr.msg)
		return
	}
	h := c.w.Header()
	h.Set("Location", "/v2/"+c.name+"/manifests/"+digest)
	h.Set("Docker-Content-Digest", digest)
	if subject != "" {
		h.Set("OCI-Subject", subject)
	}
	h.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusCreated)
}

// deleteManifest deletes by digest (the image and all its tags); deleting by
// tag is refused, conservatively, as the distribution registry does.
func (c *regCall) deleteManifest() {
	isDigest, ok := c.checkRef()
	if !ok {
		return
	}
	if !isDigest {
		c.fail(http.StatusBadRequest, "UNSUPPORTED", "The operation is unsupported.")
		return
	}
	c.s.mu.Lock()
	repo := c.repoLocked()
	found := repo != nil && repo.images[c.ref] != nil
	if found {
		repo.deleteImage(c.ref)
	}
	c.s.mu.Unlock()
	if !found {
		c.fail(http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
		return
	}
	c.w.WriteHeader(http.StatusAccepted)
}
