package ecremu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Blob uploads: POST starts a session (or mounts), PATCH appends a chunk,
// PUT ?digest= completes it after verifying the digest, GET reports progress,
// DELETE cancels. A session belongs to one repository of one registry.

type upload struct {
	id, account, repo string
	data              []byte
}

func (c *regCall) upload() {
	switch c.r.Method {
	case http.MethodPost:
		c.startUpload()
		return
	}
	c.s.mu.Lock()
	u := c.s.uploads[c.ref]
	c.s.mu.Unlock()
	if u == nil || u.account != c.account || u.repo != c.name {
		c.fail(http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "The upload with id '"+c.ref+"' does not exist")
		return
	}
	switch c.r.Method {
	case http.MethodPatch:
		c.patchUpload(u)
	case http.MethodPut:
		c.completeUpload(u)
	case http.MethodGet:
		c.s.mu.Lock()
		n := len(u.data)
		c.s.mu.Unlock()
		c.uploadAccepted(u, n, http.StatusNoContent)
	case http.MethodDelete:
		c.s.mu.Lock()
		delete(c.s.uploads, u.id)
		c.s.mu.Unlock()
		c.w.WriteHeader(http.StatusNoContent)
	}
}

func (c *regCall) startUpload() {
	q := c.r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		if !validDigest(mount) {
			c.fail(http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest format: '"+mount+"'")
			return
		}
		if c.mount(mount, q.Get("from")) {
			c.blobCreated(mount)
			return
		}
	}
	// A POST with ?digest= (single-request upload) is treated as the start
	// of a session, which the OCI spec allows a registry to do.
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	u := &upload{id: hex.EncodeToString(b), account: c.account, repo: c.name}
	c.s.mu.Lock()
	c.s.uploads[u.id] = u
	c.s.mu.Unlock()
	c.uploadAccepted(u, 0, http.StatusAccepted)
}

// mount links digest from repository from into this one if ECR would: blob
// mounting enabled for the registry, the source repository readable by the
// caller and holding the blob, and both repositories encrypted alike.
func (c *regCall) mount(digest, from string) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	reg, repo := c.s.registries[c.account], c.repoLocked()
	if reg == nil || repo == nil || !reg.blobMounting() {
		return false
	}
	src := reg.repos[from]
	if src == nil || !src.blobs[digest] || src.encryption != repo.encryption {
		return false
	}
	if c.s.authorizeLocked(c.p, c.account, from, "GetDownloadUrlForLayer") != nil {
		return false
	}
	repo.blobs[digest] = true
	return true
}

func (c *regCall) patchUpload(u *upload) {
	chunk, err := io.ReadAll(c.r.Body)
	if err != nil {
		c.fail(http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "could not read the chunk: "+err.Error())
		return
	}
	c.s.mu.Lock()
	n := len(u.data)
	if cr := c.r.Header.Get("Content-Range"); cr != "" {
		start, _, _ := strings.Cut(cr, "-")
		if at, err := strconv.Atoi(strings.TrimPrefix(start, "bytes=")); err != nil || at != n {
			c.s.mu.Unlock()
			c.w.Header().Set("Range", rangeValue(n))
			c.w.Header().Set("Location", c.uploadLocation(u))
			c.fail(http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", fmt.Sprintf("chunk starts at %s, expected %d", start, n))
			return
		}
	}
	u.data = append(u.data, chunk...)
	n = len(u.data)
	c.s.mu.Unlock()
	c.uploadAccepted(u, n, http.StatusAccepted)
}

func (c *regCall) completeUpload(u *upload) {
	digest := c.r.URL.Query().Get("digest")
	if !validDigest(digest) {
		c.fail(http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest format: '"+digest+"'")
		return
	}
	last, err := io.ReadAll(c.r.Body)
	if err != nil {
		c.fail(http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "could not read the chunk: "+err.Error())
		return
	}
	c.s.mu.Lock()
	data := append(u.data, last...)
	if digestOf(data) != digest {
		u.data = data
		c.s.mu.Unlock()
		c.fail(http.StatusBadRequest, "DIGEST_INVALID", "The provided digest '"+digest+"' does not match the uploaded content")
		return
	}
	delete(c.s.uploads, u.id)
	if _, ok := c.s.content[digest]; !ok {
		c.s.content[digest] = data
	}
	if repo := c.repoLocked(); repo != nil {
		repo.blobs[digest] = true
	}
	c.s.mu.Unlock()
	c.blobCreated(digest)
}

func (c *regCall) blobCreated(digest string) {
	c.w.Header().Set("Location", "/v2/"+c.name+"/blobs/"+digest)
	c.w.Header().Set("Docker-Content-Digest", digest)
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusCreated)
}

func (c *regCall) uploadLocation(u *upload) string { return "/v2/" + c.name + "/blobs/uploads/" + u.id }

func (c *regCall) uploadAccepted(u *upload, n, status int) {
	h := c.w.Header()
	h.Set("Location", c.uploadLocation(u))
	h.Set("Docker-Upload-UUID", u.id)
	h.Set("Range", rangeValue(n))
	h.Set("Content-Length", "0")
	c.w.WriteHeader(status)
}

// rangeValue is the Range header for n bytes received ("0-0" for none).
func rangeValue(n int) string {
	if n == 0 {
		return "0-0"
	}
	return "0-" + strconv.Itoa(n-1)
}
