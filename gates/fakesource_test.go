package gates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// fakeSource serves manifests, blobs and tags from memory, as a registry
// would, so gate decisions are tested without one.
type fakeSource struct {
	manifests map[string]Manifest // "repo@digest" and "repo:tag"
	blobs     map[string][]byte   // "repo@digest"
	tags      map[string][]string
	fail      error // when set, every call fails with it
}

func newFakeSource() *fakeSource {
	return &fakeSource{manifests: map[string]Manifest{}, blobs: map[string][]byte{}, tags: map[string][]string{}}
}

// addImage stores img (and its config) under repo:tag and repo@digest.
func (f *fakeSource) addImage(t *testing.T, repo, tag string, img v1.Image) v1.Hash {
	t.Helper()
	raw, err := img.RawManifest()
	require.NoError(t, err)
	d, err := img.Digest()
	require.NoError(t, err)
	mt, err := img.MediaType()
	require.NoError(t, err)
	cfgName, err := img.ConfigName()
	require.NoError(t, err)
	cfg, err := img.RawConfigFile()
	require.NoError(t, err)
	f.blobs[repo+"@"+cfgName.String()] = cfg
	f.put(repo, tag, Manifest{Digest: d, MediaType: mt, Raw: raw})
	return d
}

// addIndex stores an index and its images.
func (f *fakeSource) addIndex(t *testing.T, repo, tag string, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		f.addImage(t, repo, "", img)
	}
	raw, err := idx.RawManifest()
	require.NoError(t, err)
	d, err := idx.Digest()
	require.NoError(t, err)
	mt, err := idx.MediaType()
	require.NoError(t, err)
	f.put(repo, tag, Manifest{Digest: d, MediaType: mt, Raw: raw})
	return d
}

func (f *fakeSource) put(repo, tag string, m Manifest) {
	f.manifests[repo+"@"+m.Digest.String()] = m
	if tag != "" {
		f.manifests[repo+":"+tag] = m
		f.tags[repo] = append(f.tags[repo], tag)
	}
}

func (f *fakeSource) Manifest(_ context.Context, ref string) (Manifest, error) {
	if f.fail != nil {
		return Manifest{}, f.fail
	}
	m, ok := f.manifests[strings.TrimPrefix(ref, "index.docker.io/")]
	if !ok {
		return Manifest{}, fmt.Errorf("%w: manifest %s", errs.ErrNotFound, ref)
	}
	return m, nil
}

func (f *fakeSource) Blob(_ context.Context, repo string, d v1.Descriptor, max int64) ([]byte, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	b, ok := f.blobs[repo+"@"+d.Digest.String()]
	if !ok {
		return nil, fmt.Errorf("%w: blob %s in %s", errs.ErrNotFound, d.Digest, repo)
	}
	if int64(len(b)) > max {
		return nil, errors.New("too large")
	}
	return b, nil
}

func (f *fakeSource) Referrers(context.Context, string, v1.Hash) ([]v1.Descriptor, error) {
	return nil, f.fail
}

func (f *fakeSource) Tags(_ context.Context, repo string) ([]string, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	return f.tags[repo], nil
}
