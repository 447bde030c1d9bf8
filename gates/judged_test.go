package gates

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two images of one platform (a nested index may list linux/amd64 twice):
// every per-image gate's evidence names both by digest and platform, and a
// reason names the failing one by digest, so neither hides behind the other.
func TestPerImageGatesNameEachImageJudged(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	img := func(hex, user string, labels map[string]string) Image {
		cf := &v1.ConfigFile{OS: "linux", Architecture: "amd64", Created: v1.Time{Time: now.Add(-time.Hour)}}
		cf.Config.User, cf.Config.Labels = user, labels
		return Image{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(hex, 64)}, Config: cf}
	}
	good := img("a", "1000", map[string]string{"org.opencontainers.image.source": "x", "org.opencontainers.image.revision": "y"})
	bad := img("b", "", nil)
	s := &Subject{Images: []Image{good, bad}, Now: now}

	labels, err := NewLabels(LabelsConfig{})
	require.NoError(t, err)
	platforms, err := NewPlatforms(PlatformsConfig{Require: []string{"linux/amd64"}})
	require.NoError(t, err)
	secrets, err := NewSecrets(SecretsConfig{})
	require.NoError(t, err)
	for name, g := range map[string]Gate{"nonroot": nonrootGate{}, "labels": labels, "maxAge": maxAgeGate{max: 24 * time.Hour},
		"platforms": platforms, "noSecretsInEnv": secrets} {
		v, err := g.Evaluate(context.Background(), s)
		require.NoError(t, err, name)
		b, err := json.Marshal(v.Evidence["images"])
		require.NoError(t, err, name)
		assert.JSONEq(t, `[{"digest":"`+good.Digest.String()+`","platform":"linux/amd64"},{"digest":"`+bad.Digest.String()+`","platform":"linux/amd64"}]`, string(b), name)
	}
	v, err := nonrootGate{}.Evaluate(context.Background(), s)
	require.NoError(t, err)
	assert.False(t, v.Passed())
	assert.Equal(t, "runs as root on linux/amd64@"+bad.Digest.String()+" (user unset); set USER to a non-root uid", v.Reason)
	assert.Equal(t, "linux/amd64", (&Subject{Images: []Image{good}}).ImageName(good), "a platform listed once is named alone")
}
