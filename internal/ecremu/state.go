package ecremu

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// The emulator's state. Everything lives in memory behind Server.mu: the
// handlers take the lock for the whole of one request's state change, so a
// request is atomic the way one ECR API call is.

// registry is one account's private registry (<account>.dkr.ecr.<region>).
type registry struct {
	id       string
	repos    map[string]*repository
	grants   map[string]bool   // principal accounts a registry policy lets in
	settings map[string]string // account settings (GetAccountSetting)
}

func (r *registry) blobMounting() bool { return r.settings["BLOB_MOUNTING"] == "ENABLED" }

// repository is one ECR repository with its own blobs, images and tags.
type repository struct {
	name       string
	createdAt  time.Time
	mutability string
	filters    []ExclusionFilter
	scanOnPush bool
	encryption EncryptionConfiguration
	tags       []ResourceTag
	blobs      map[string]bool   // digests linked into this repository
	images     map[string]*image // by manifest digest
	tagIndex   map[string]string // image tag -> manifest digest
	lifecycle  *lifecyclePolicy
	scans      map[string]*scanState // by manifest digest
}

// image is one stored manifest, kept byte for byte.
type image struct {
	digest    string
	manifest  []byte
	mediaType string
	pushedAt  time.Time
	info      *manifestInfo
}

type lifecyclePolicy struct {
	text          string
	lastEvaluated time.Time
}

// EncryptionConfiguration is the repository's encryption setting.
type EncryptionConfiguration struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

// ResourceTag is an AWS resource tag (note ECR's capitalised member names).
type ResourceTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (s *Server) registryLocked(id string) *registry {
	r, ok := s.registries[id]
	if !ok {
		r = &registry{
			id:       id,
			repos:    map[string]*repository{},
			grants:   map[string]bool{},
			settings: map[string]string{"BLOB_MOUNTING": "DISABLED", "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE"},
		}
		if s.opts.BlobMounting {
			r.settings["BLOB_MOUNTING"] = "ENABLED"
		}
		s.registries[id] = r
	}
	return r
}

func newRepository(name string, now time.Time) *repository {
	return &repository{
		name:       name,
		createdAt:  now,
		mutability: Mutable,
		encryption: EncryptionConfiguration{EncryptionType: "AES256"},
		blobs:      map[string]bool{},
		images:     map[string]*image{},
		tagIndex:   map[string]string{},
		scans:      map[string]*scanState{},
	}
}

// sortedRepos lists a registry's repositories in creation order.
func (r *registry) sortedRepos() []*repository {
	return slices.SortedFunc(maps.Values(r.repos), func(a, b *repository) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), strings.Compare(a.name, b.name))
	})
}

// tagsOf returns the tags naming digest, sorted.
func (repo *repository) tagsOf(digest string) []string {
	var tags []string
	for t, d := range repo.tagIndex {
		if d == digest {
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	return tags
}

// sortedImages lists images by push time, then digest.
func (repo *repository) sortedImages() []*image {
	return slices.SortedFunc(maps.Values(repo.images), func(a, b *image) int {
		return cmp.Or(a.pushedAt.Compare(b.pushedAt), strings.Compare(a.digest, b.digest))
	})
}

// resolve finds an image by digest or tag; with both, they must agree.
// It reports whether the tag named another digest (ImageTagDoesNotMatchDigest).
func (repo *repository) resolve(digest, tag string) (img *image, mismatch bool) {
	if tag != "" {
		d, ok := repo.tagIndex[tag]
		if !ok {
			return nil, false
		}
		if digest != "" && d != digest {
			return nil, true
		}
		return repo.images[d], false
	}
	return repo.images[digest], false
}

func (repo *repository) arn(region, account string) string {
	return "arn:aws:ecr:" + region + ":" + account + ":repository/" + repo.name
}

// registryHostName is the real ECR host of an account's registry.
func registryHostName(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}
