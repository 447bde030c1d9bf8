package config

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"REG": "registry.example.com", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct {
		in, want, err string
	}{
		{in: "plain/{app}", want: "plain/{app}"},
		{in: "${REG}/team/{app}", want: "registry.example.com/team/{app}"},
		{in: "${REG:-default.io}/{app}", want: "registry.example.com/{app}"},
		{in: "${UNSET:-default.io}/{app}", want: "default.io/{app}"},
		{in: "${EMPTY:-default.io}/{app}", want: "default.io/{app}"},
		{in: "x${EMPTY}y", want: "xy"},
		{in: "${UNSET:-${REG}}/{app}", want: "registry.example.com/{app}"},
		{in: "${UNSET:-reg.io/dev/{app}}", want: "reg.io/dev/{app}"},
		{in: "${UNSET}/{app}", err: "environment variable UNSET is not set and ${UNSET} has no default"},
		{in: "${UNSET:-${ALSO_UNSET}}", err: "environment variable ALSO_UNSET is not set"},
		{in: "$REG/{app}", err: "'$' at position 1 of \"$REG/{app}\" starts no ${VAR}"},
		{in: "reg.io/{app}$", err: "starts no ${VAR}"},
		{in: "${REG/{app}", err: "unterminated ${"},
		{in: "${1REG}/{app}", err: "${1REG} is not a variable reference"},
		{in: "${REG-x}/{app}", err: "${REG-x} is not a variable reference"},
		{in: "${}/{app}", err: "${} is not a variable reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, lookup)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseExpandsRepository(t *testing.T) {
	const file = "environments.yaml"
	data := lines(
		"version: 1",
		"environments:",
		"  - name: dev",
		"    repository: ${PROMOTE_TEST_REGISTRY}/${PROMOTE_TEST_TEAM:-team}/{app}",
		"    tags: mutable",
	)

	t.Run("set", func(t *testing.T) {
		t.Setenv("PROMOTE_TEST_REGISTRY", "registry.example.com:5000")
		unsetenv(t, "PROMOTE_TEST_TEAM")
		c, err := Parse(file, data)
		require.NoError(t, err)
		assert.Equal(t, "registry.example.com:5000/team/{app}", c.Environments[0].Repository)
	})
	t.Run("default overridden", func(t *testing.T) {
		t.Setenv("PROMOTE_TEST_REGISTRY", "localhost")
		t.Setenv("PROMOTE_TEST_TEAM", "platform")
		c, err := Parse(file, data)
		require.NoError(t, err)
		assert.Equal(t, "localhost/platform/{app}", c.Environments[0].Repository)
	})
	t.Run("unset without default", func(t *testing.T) {
		unsetenv(t, "PROMOTE_TEST_REGISTRY")
		_, err := Parse(file, data)
		requireConfigError(t, err, file, 4, "environments[0].repository", "environment variable PROMOTE_TEST_REGISTRY is not set")
	})
	t.Run("expanded value checked", func(t *testing.T) {
		t.Setenv("PROMOTE_TEST_REGISTRY", "nohost")
		_, err := Parse(file, data)
		requireConfigError(t, err, file, 4, "environments[0].repository",
			`"nohost/team/{app}" (expanded from "${PROMOTE_TEST_REGISTRY}/${PROMOTE_TEST_TEAM:-team}/{app}") names no registry host`)
	})
}

// unsetenv removes k from the environment for the duration of t.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "") // restores the old value when t ends
	require.NoError(t, os.Unsetenv(k))
}
