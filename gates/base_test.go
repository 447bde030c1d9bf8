package gates

import (
	"context"
	"errors"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var baseNow = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

const (
	baseRepo     = "reg.example.com/base/alpine"
	platformRepo = "reg.example.com/platform/java"
)

// tiers builds the three-tier chain: a base image (2 layers, 10 days old),
// a platform image on it (+1 layer) and the app on that (+1 layer).
type tiers struct {
	src                 *fakeSource
	base, platform, app v1.Image
}

func newTiers(t *testing.T, baseAge time.Duration) *tiers {
	tr := &tiers{src: newFakeSource()}
	tr.base = withCreated(t, randomImage(t, 2), baseNow.Add(-baseAge))
	tr.platform = appendLayers(t, tr.base, 1)
	tr.app = appendLayers(t, tr.platform, 1)
	tr.src.addImage(t, baseRepo, "3.20", tr.base)
	tr.src.addImage(t, platformRepo, "21", tr.platform)
	return tr
}

func randomImage(t *testing.T, layers int64) v1.Image {
	img, err := random.Image(256, layers)
	require.NoError(t, err)
	return img
}

func withCreated(t *testing.T, img v1.Image, c time.Time) v1.Image {
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: c}
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

func appendLayers(t *testing.T, img v1.Image, n int64) v1.Image {
	extra := randomImage(t, n)
	ls, err := extra.Layers()
	require.NoError(t, err)
	out, err := mutate.AppendLayers(img, ls...)
	require.NoError(t, err)
	return out
}

func annotate(t *testing.T, img v1.Image, name, digest string) v1.Image {
	a := map[string]string{}
	if name != "" {
		a[AnnotationBaseName] = name
	}
	if digest != "" {
		a[AnnotationBaseDigest] = digest
	}
	return mutate.Annotations(img, a).(v1.Image)
}

func subjectOf(t *testing.T, src Source, imgs ...v1.Image) *Subject {
	s := &Subject{Now: baseNow, Source: src}
	for _, img := range imgs {
		raw, err := img.RawManifest()
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		s.Images = append(s.Images, Image{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}, Digest: d, Manifest: raw, Config: cf})
	}
	s.Digest, s.Manifest = s.Images[0].Digest, s.Images[0].Manifest
	return s
}

func digestOf(t *testing.T, img v1.Image) string {
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

func TestBaseGate(t *testing.T) {
	approvedExact := []string{baseRepo, platformRepo}
	cases := []struct {
		name     string
		approved []string
		maxAge   Duration
		baseAge  time.Duration
		app      func(tr *tiers) v1.Image
		pass     bool
		reason   string
	}{
		{"annotation names approved platform image", []string{"reg.example.com/platform/*"}, 0, 10 * 24 * time.Hour,
			func(tr *tiers) v1.Image {
				return annotate(t, tr.app, platformRepo+":21", digestOf(t, tr.platform))
			}, true, "built on approved base " + platformRepo + "@"},
		{"annotation names an unapproved base", []string{"reg.example.com/base/*"}, 0, 0,
			func(tr *tiers) v1.Image { return annotate(t, tr.app, platformRepo+":21", "") }, false, "is not approved"},
		{"annotation lies: squashed image", []string{"reg.example.com/**"}, 0, 0,
			func(tr *tiers) v1.Image { return annotate(t, randomImage(t, 1), baseRepo+":3.20", "") }, false, "do not start with the 2 layers"},
		{"annotated base missing", []string{"reg.example.com/**"}, 0, 0,
			func(tr *tiers) v1.Image { return annotate(t, tr.app, baseRepo+":gone", "") }, false, "is not in the registry"},
		{"search picks the nearest tier", approvedExact, 0, 0,
			func(tr *tiers) v1.Image { return tr.app }, true, "approved base " + platformRepo + ":21 (3 of 4 layers"},
		{"search: FROM scratch", approvedExact, 0, 0,
			func(tr *tiers) v1.Image { return randomImage(t, 3) }, false, "FROM scratch, squashed, or on an unapproved base"},
		{"search: squashed single layer", approvedExact, 0, 0,
			func(tr *tiers) v1.Image { return randomImage(t, 1) }, false, "single layer"},
		{"wildcards cannot be searched", []string{"reg.example.com/base/*"}, 0, 0,
			func(tr *tiers) v1.Image { return tr.app }, false, "every approved pattern has a wildcard"},
		{"base too old", approvedExact, Duration(30 * 24 * time.Hour), 40 * 24 * time.Hour,
			func(tr *tiers) v1.Image { return tr.app }, false, "is 40d old (max 30d)"},
		{"base young enough", approvedExact, Duration(30 * 24 * time.Hour), 10 * 24 * time.Hour,
			func(tr *tiers) v1.Image { return tr.platform }, true, "10d old"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := newTiers(t, c.baseAge)
			g, err := NewBase(BaseConfig{Approved: c.approved, MaxAge: c.maxAge})
			require.NoError(t, err)
			v, err := g.Evaluate(context.Background(), subjectOf(t, tr.src, c.app(tr)))
			require.NoError(t, err)
			assert.Equal(t, c.pass, v.Passed(), v.Reason)
			assert.Contains(t, v.Reason, c.reason)
		})
	}
}

func TestBaseGateIndexBaseAndErrors(t *testing.T) {
	src := newFakeSource()
	var adds []mutate.IndexAddendum
	var arm v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img := withCreated(t, randomImage(t, 2), baseNow)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.Architecture = arch
		img, err := mutate.ConfigFile(img, cf)
		require.NoError(t, err)
		if arch == "arm64" {
			arm = img
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	src.addIndex(t, baseRepo, "3.20", idx)
	app := annotate(t, appendLayers(t, arm, 1), baseRepo+":3.20", "")
	g, err := NewBase(BaseConfig{Approved: []string{"reg.example.com/base/*"}})
	require.NoError(t, err)
	v, err := g.Evaluate(context.Background(), subjectOf(t, src, app))
	require.NoError(t, err)
	assert.True(t, v.Passed(), "the arm64 child of the base index is compared: %s", v.Reason)

	src.fail = errors.New("connection reset")
	_, err = g.Evaluate(context.Background(), subjectOf(t, src, app))
	assert.ErrorContains(t, err, "connection reset", "a registry failure is an error (fail closed), not a verdict")

	_, err = g.Evaluate(context.Background(), &Subject{})
	assert.Error(t, err)
}

func TestBaseConfigAndPatterns(t *testing.T) {
	for _, bad := range []BaseConfig{{}, {Approved: []string{"alpine"}}, {Approved: []string{"reg/base:3.19"}},
		{Approved: []string{"reg/[x"}}, {Approved: []string{"reg/x"}, SearchTags: 501}} {
		_, err := NewBase(bad)
		assert.Error(t, err, bad)
	}
	g := baseGate{approved: []string{"reg.example.com/base/*", "reg.example.com/platform/**", "docker.io/library/alpine"}}
	for repo, want := range map[string]bool{
		"reg.example.com/base/alpine":       true,
		"reg.example.com/base/team/alpine":  false,
		"reg.example.com/platform/a/b/java": true,
		"reg.example.com/other/alpine":      false,
		"alpine":                            true,
		"index.docker.io/library/alpine":    true,
	} {
		assert.Equal(t, want, g.approvedRepo(repo), repo)
	}
}
