package ecremu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// What a repository holds, listed: GET /v2/<name>/tags/list (paginated with
// ?n= and ?last=, Link header), and the OCI 1.1 referrers API,
// GET /v2/<name>/referrers/<digest>, which lists as an OCI image index the
// manifests in the repository whose subject is that digest, optionally
// filtered by ?artifactType=.

type referrerDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type referrersIndex struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	Manifests     []referrerDescriptor `json:"manifests"`
}

func (c *regCall) referrers() {
	if !validDigest(c.ref) {
		c.fail(http.StatusBadRequest, "DIGEST_INVALID", "Invalid digest format: '"+c.ref+"'")
		return
	}
	filter := c.r.URL.Query().Get("artifactType")
	c.s.mu.Lock()
	var imgs []*image
	if repo := c.repoLocked(); repo != nil {
		imgs = repo.sortedImages()
	}
	c.s.mu.Unlock()
	out := referrersIndex{SchemaVersion: 2, MediaType: MediaTypeOCIIndex, Manifests: []referrerDescriptor{}}
	for _, img := range imgs {
		if img.info.subject != c.ref || (filter != "" && img.info.artifactType != filter) {
			continue
		}
		out.Manifests = append(out.Manifests, referrerDescriptor{
			MediaType: img.mediaType, Digest: img.digest, Size: int64(len(img.manifest)),
			ArtifactType: img.info.artifactType, Annotations: img.info.annotations,
		})
	}
	sort.SliceStable(out.Manifests, func(i, j int) bool { return out.Manifests[i].Digest < out.Manifests[j].Digest })
	body, _ := json.Marshal(out)
	h := c.w.Header()
	h.Set("Content-Type", MediaTypeOCIIndex)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if filter != "" {
		h.Set("OCI-Filters-Applied", "artifactType")
	}
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
}

func (c *regCall) tagsList() {
	c.s.mu.Lock()
	var tags []string
	if repo := c.repoLocked(); repo != nil {
		for t := range repo.tagIndex {
			tags = append(tags, t)
		}
	}
	c.s.mu.Unlock()
	sort.Strings(tags)
	q := c.r.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		for i < len(tags) && tags[i] <= last {
			i++
		}
		tags = tags[i:]
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n >= 0 && n < len(tags) {
		tags = tags[:n]
		if n > 0 {
			next := url.Values{"n": {strconv.Itoa(n)}, "last": {tags[n-1]}}
			c.w.Header().Set("Link", `</v2/`+c.name+`/tags/list?`+next.Encode()+`>; rel="next"`)
		}
	}
	if tags == nil {
		tags = []string{}
	}
	c.w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(c.w).Encode(map[string]any{"name": c.name, "tags": tags})
}
