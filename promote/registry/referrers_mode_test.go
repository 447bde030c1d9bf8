package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
)

// A 404 NAME_UNKNOWN from the referrers API (a repository that does not
// exist, as ECR answers) is no referrers there, not a registry without the
// API: the same client still sees the API's referrers elsewhere.
func TestANegativeReferrersAnswerIsNotRemembered(t *testing.T) {
	reg := newFaulty(t)
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/missing/") && strings.Contains(r.URL.Path, "/referrers/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository missing not found"}]}`))
			return true
		}
		return false
	})
	pushRandom(t, reg.Host+"/a/app:1")
	c := fastClient(t)
	repo, _ := c.Repository(reg.Host + "/a/app")
	m, err := c.Get(context.Background(), repo.Tag("1"))
	require.NoError(t, err)
	regtest.Referrer(t, reg.Host+"/a/app", v1.Descriptor{MediaType: m.Type, Digest: m.Digest, Size: int64(len(m.Raw))}, "application/spdx+json")

	missing, _ := c.Repository(reg.Host + "/missing/app")
	got, err := c.Referrers(context.Background(), missing, m.Digest)
	require.NoError(t, err)
	assert.Empty(t, got, "no such repository: no referrers")
	got, err = c.Referrers(context.Background(), repo, m.Digest)
	require.NoError(t, err)
	assert.Len(t, got, 1, "the API's referrer, after the missing repository's 404")
}

// A registry without the referrers API (distribution 2.8's router answers
// "404 page not found", no error document) is learnt so: the fallback tag
// is asked beside the API the first time, and alone afterwards.
func TestARegistryWithoutTheReferrersAPIIsLearnt(t *testing.T) {
	reg := newFaulty(t)
	pushRandom(t, reg.Host+"/a/app:1")
	reg.Set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/referrers/") {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return true
		}
		return false
	})
	c := fastClient(t)
	repo, _ := c.Repository(reg.Host + "/a/app")
	m, err := c.Get(context.Background(), repo.Tag("1"))
	require.NoError(t, err)
	for range 3 {
		got, err := c.Referrers(context.Background(), repo, m.Digest)
		require.NoError(t, err)
		assert.Empty(t, got)
	}
	assert.Equal(t, 1, reg.Count("GET", "/referrers/"), "the API asked once")
	assert.Equal(t, 3, reg.Count("GET", "/manifests/sha256-"), "the fallback tag every time")
}
