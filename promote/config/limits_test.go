package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

func TestLimits(t *testing.T) {
	const envs = "environments:\n  - name: dev\n    repository: 127.0.0.1:5000/dev/{app}\n    tags: mutable\n"
	parse := func(limits string) (*Config, error) {
		return Parse("environments.yaml", []byte("version: 1\n"+limits+envs))
	}
	c, err := parse("")
	require.NoError(t, err)
	assert.Equal(t, Limits{MaxManifests: 1000, MaxManifestBytes: 32 << 20, MaxIndexDepth: 4, MaxBlobs: 10000}, c.Limits, "documented defaults")

	c, err = parse("limits: {maxManifests: 50, maxManifestBytes: 2MiB}\n")
	require.NoError(t, err)
	assert.Equal(t, Limits{MaxManifests: 50, MaxManifestBytes: 2 << 20, MaxIndexDepth: 4, MaxBlobs: 10000}, c.Limits, "unset fields keep their defaults")
	c, err = parse("limits: {maxManifestBytes: 65536, maxIndexDepth: 2, maxBlobs: 300}\n")
	require.NoError(t, err)
	assert.Equal(t, Limits{MaxManifests: 1000, MaxManifestBytes: 65536, MaxIndexDepth: 2, MaxBlobs: 300}, c.Limits)

	for _, tc := range []struct{ yaml, want string }{
		{"limits: {maxManifests: 0}\n", "environments.yaml:2: limits.maxManifests: 0 is out of range; expected an integer from 1 to 100000"},
		{"limits: {maxBlobs: -1}\n", "limits.maxBlobs: -1 is out of range; expected an integer from 1 to 1000000"},
		{"limits: {maxIndexDepth: 17}\n", "limits.maxIndexDepth: 17 is out of range; expected an integer from 1 to 16"},
		{"limits: {maxManifestBytes: 12 MB}\n", `limits.maxManifestBytes: "12 MB": expected a size such as 33554432 or 32MiB`},
		{"limits: {maxManifestBytes: 8GiB}\n", `"8GiB": expected a size`},
		{"limits: {maxManifestBytes: 100}\n", `"100" is below 1KiB`},
		{"limits: {maxManifest: 5}\n", `limits.maxManifest`},
		{"limits: 5\n", "limits"},
	} {
		_, err := parse(tc.yaml)
		require.Error(t, err, tc.yaml)
		assert.ErrorIs(t, err, errs.ErrConfig)
		assert.Contains(t, err.Error(), tc.want, tc.yaml)
	}
}
