package blobcache

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func digest(c byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(c), 64)} }

func TestRememberAndWhere(t *testing.T) {
	c, err := Open(t.TempDir())
	require.NoError(t, err)
	a, b := digest('a'), digest('b')
	assert.Equal(t, "", c.Where("reg.example:5000", a), "nothing known yet")
	require.NoError(t, c.Remember("reg.example:5000", "prod/web", []v1.Hash{a, b}))
	assert.Equal(t, "prod/web", c.Where("reg.example:5000", a))
	assert.Equal(t, "prod/web", c.Where("REG.example:5000", b), "host names are case-insensitive")
	assert.Equal(t, "", c.Where("other.example", a), "per registry")
	require.NoError(t, c.Remember("reg.example:5000", "prod/api", []v1.Hash{a}))
	assert.Equal(t, "prod/api", c.Where("reg.example:5000", a), "the latest location wins")
}

func TestHostileNamesStayInsideTheCache(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(filepath.Join(dir, "cache"))
	require.NoError(t, err)
	bad := v1.Hash{Algorithm: "sha256", Hex: "../../../escape"}
	assert.Error(t, c.Remember("reg", "x", []v1.Hash{bad}))
	assert.Error(t, c.Remember("..", "x", []v1.Hash{digest('a')}))
	assert.Equal(t, "", c.Where("reg", bad))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.Equal(t, "cache", e.Name(), "nothing written beside the cache")
	}
}

// Opening creates nothing: the first Remember makes the directory, 0700.
func TestOpenCreatesNothingUntilARemember(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	require.NoError(t, err)
	assert.NoDirExists(t, dir)
	assert.Equal(t, "", c.Where("reg", digest('a')))
	require.NoError(t, c.Remember("reg", "prod/a", []v1.Hash{digest('a')}))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.Equal(t, "prod/a", c.Where("reg", digest('a')))
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = Open(file)
	assert.ErrorContains(t, err, "not a directory")
}

func TestNilAndOff(t *testing.T) {
	var c *Cache
	assert.Equal(t, "", c.Where("reg", digest('a')))
	assert.NoError(t, c.Remember("reg", "x", []v1.Hash{digest('a')}))
	t.Setenv(EnvDir, "off")
	c, err := Default()
	require.NoError(t, err)
	assert.Nil(t, c)
	t.Setenv(EnvDir, t.TempDir())
	c, err = Default()
	require.NoError(t, err)
	assert.NotNil(t, c)
}

func TestConcurrentWritersNeverTearAnEntry(t *testing.T) {
	c, err := Open(t.TempDir())
	require.NoError(t, err)
	repos := []string{"prod/a", "prod/bb", "prod/ccc", "prod/dddd"}
	var wg sync.WaitGroup
	for _, r := range repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_ = c.Remember("reg", r, []v1.Hash{digest('a')})
				assert.Contains(t, append(repos, ""), c.Where("reg", digest('a')))
			}
		}()
	}
	wg.Wait()
	assert.Contains(t, repos, c.Where("reg", digest('a')))
}
