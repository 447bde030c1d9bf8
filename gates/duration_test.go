package gates

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		d, err := ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, time.Duration(d))
	}
	for _, bad := range []string{"", "0d", "-1d", "xd", "soon", "-5h"} {
		_, err := ParseDuration(bad)
		assert.Error(t, err, bad)
	}
	var c struct {
		Max Duration `yaml:"maxAge"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("maxAge: 30d"), &c))
	assert.Equal(t, "30d", c.Max.String())
	assert.ErrorContains(t, yaml.Unmarshal([]byte("maxAge: [1]"), &c), "expected a duration")
	assert.Equal(t, "3d", Age(72*time.Hour))
	assert.Equal(t, "5h", Age(5*time.Hour))
}
