// Package blobcache remembers where blobs were last seen: for each registry
// and blob digest, a repository that held it. A promotion into a repository
// that lacks a blob asks the target registry to mount it from there instead
// of uploading its bytes again (as skopeo's blob-info cache does). The cache
// is a hint, never a truth: a stale entry only means the mount is declined
// and the blob is uploaded.
//
// One small file per registry and digest, written to a temporary name and
// renamed: processes share the cache without locks, and a reader sees the
// old location or the new, never half of one.
package blobcache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// EnvDir names the environment variable that sets the cache directory;
// "off" disables the cache.
const EnvDir = "PROMOTE_CACHE_DIR"

// Cache is a directory of blob locations. A nil *Cache remembers nothing.
type Cache struct{ dir string }

// Open uses dir, which is created (mode 0700) by the first Remember: a
// command that only reads creates nothing. A dir that exists and is not a
// directory is an error.
func Open(dir string) (*Cache, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("blob cache %s: not a directory", dir)
	}
	return &Cache{dir: dir}, nil
}

// Default opens $PROMOTE_CACHE_DIR, or promote/blobs under the user's cache
// directory ($XDG_CACHE_HOME or ~/.cache). It returns nil, nil when the
// cache is off or there is no cache directory to use.
func Default() (*Cache, error) {
	dir := os.Getenv(EnvDir)
	if dir == "off" {
		return nil, nil
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, nil
		}
		dir = filepath.Join(base, "promote", "blobs")
	}
	return Open(dir)
}

// path is the file of digest d on registry host.
func (c *Cache) path(registry string, d v1.Hash) (string, bool) {
	if d.Algorithm == "" || !safe(d.Algorithm) || !safe(d.Hex) || registry == "" {
		return "", false
	}
	host := strings.NewReplacer(":", "_", "/", "_").Replace(strings.ToLower(registry))
	if !safe(host) {
		return "", false
	}
	return filepath.Join(c.dir, host, d.Algorithm, d.Hex), true
}

func safe(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Where returns the repository (path on registry, such as prod/web) that
// last held d on registry, or "" if the cache does not know one.
func (c *Cache) Where(registry string, d v1.Hash) string {
	if c == nil {
		return ""
	}
	p, ok := c.path(registry, d)
	if !ok {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) > 512 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Remember records that repo on registry holds every digest in ds. It is
// best effort: the first error is returned, for tests and logs, and
// promotions go on without it.
func (c *Cache) Remember(registry, repo string, ds []v1.Hash) error {
	if c == nil || repo == "" {
		return nil
	}
	var first error
	for _, d := range ds {
		if err := c.put(registry, repo, d); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *Cache) put(registry, repo string, d v1.Hash) error {
	p, ok := c.path(registry, d)
	if !ok {
		return fmt.Errorf("blob cache: cannot name %s on %q", d, registry)
	}
	if c.Where(registry, d) == repo {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(repo + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
