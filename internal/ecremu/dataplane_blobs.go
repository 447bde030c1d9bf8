package ecremu

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Blob reads. Blobs are per repository: a digest is visible only in the
// repositories it was uploaded or mounted into. HEAD answers directly; GET
// answers 307 to a presigned, expiring URL (ECR redirects to S3), served
// without registry credentials.

const (
	layerPathPrefix = "/_ecremu/layers/"
	layerURLTTL     = time.Hour
)

func (c *regCall) blob() {
	if !validDigest(c.ref) {
		c.fail(http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest format: '"+c.ref+"'")
		return
	}
	c.s.mu.Lock()
	repo := c.repoLocked()
	linked := repo != nil && repo.blobs[c.ref]
	size := len(c.s.content[c.ref])
	now := c.s.now()
	c.s.mu.Unlock()
	if !linked {
		c.fail(http.StatusNotFound, "BLOB_UNKNOWN", "The layer with digest '"+c.ref+"' does not exist in the repository with name '"+c.name+"' in the registry with id '"+c.account+"'")
		return
	}
	h := c.w.Header()
	h.Set("Docker-Content-Digest", c.ref)
	if c.r.Method == http.MethodHead {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.Itoa(size))
		c.w.WriteHeader(http.StatusOK)
		return
	}
	h.Set("Location", scheme(c.r)+"://"+c.r.Host+c.s.presign(c.account, c.name, c.ref, now.Add(layerURLTTL)))
	c.w.WriteHeader(http.StatusTemporaryRedirect)
}

// presign builds the path and query of a layer download URL.
func (s *Server) presign(account, repo, digest string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"X-Amz-Expires": {exp}, "X-Amz-Signature": {s.layerSignature(account, repo, digest, exp)}}
	return layerPathPrefix + account + "/" + repo + "/" + digest + "?" + q.Encode()
}

func (s *Server) layerSignature(account, repo, digest, exp string) string {
	return hex.EncodeToString(hmacSHA256(s.key, account+"\n"+repo+"\n"+digest+"\n"+exp))
}

// serveLayerURL serves a presigned layer URL, answering like S3 on failure.
func (s *Server) serveLayerURL(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, layerPathPrefix)
	account, rest, _ := strings.Cut(rest, "/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		s3Error(w, http.StatusBadRequest, "InvalidRequest", "Malformed presigned URL")
		return
	}
	repo, digest := rest[:i], rest[i+1:]
	exp := r.URL.Query().Get("X-Amz-Expires")
	want := s.layerSignature(account, repo, digest, exp)
	if !hmac.Equal([]byte(want), []byte(r.URL.Query().Get("X-Amz-Signature"))) {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	expUnix, _ := strconv.ParseInt(exp, 10, 64)
	s.mu.Lock()
	expired := !s.now().Before(time.Unix(expUnix, 0))
	data, ok := s.content[digest]
	s.mu.Unlock()
	switch {
	case expired:
		s3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	case !ok:
		s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data)) // Range requests work, as on S3
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>"))
}
