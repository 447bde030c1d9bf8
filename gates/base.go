package gates

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// BaseConfig is the base gate's configuration.
type BaseConfig struct {
	// Approved lists repository patterns of the organisation's base and
	// platform images: "*" matches within one path segment, "**" any number
	// of segments (registry.example.com/base/*, registry.example.com/platform/**).
	Approved []string `yaml:"approved"`
	// MaxAge, if set, is the oldest a matched base may be (continuous patching).
	MaxAge Duration `yaml:"maxAge"`
	// SearchTags bounds the tags read per approved repository when the image
	// does not name its base in annotations (default 50, at most 500).
	SearchTags int `yaml:"searchTags"`
}

// Annotations naming a base image (set by crane, buildah, ko, buildx).
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

const (
	defaultSearchTags = 50
	maxSearchTags     = 500
)

type baseGate struct {
	approved   []string
	maxAge     time.Duration
	searchTags int
}

func init() {
	Register("base", func(s Settings) (Gate, error) {
		var c BaseConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return NewBase(c)
	})
}

// NewBase validates the configuration and builds the gate.
func NewBase(c BaseConfig) (Gate, error) {
	if len(c.Approved) == 0 {
		return nil, fmt.Errorf("approved: list the repositories of approved base images, such as [registry.example.com/base/*]")
	}
	for i, p := range c.Approved {
		host, rest, ok := strings.Cut(p, "/")
		if !ok || host == "" || rest == "" || strings.ContainsAny(rest, "@:") || strings.Contains(host, "@") {
			return nil, fmt.Errorf("approved[%d]: %q is not a repository pattern such as registry.example.com/base/* (no tag or digest)", i, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if _, err := path.Match(seg, ""); err != nil {
				return nil, fmt.Errorf("approved[%d]: %q: %v", i, p, err)
			}
		}
	}
	n := c.SearchTags
	switch {
	case n == 0:
		n = defaultSearchTags
	case n < 0 || n > maxSearchTags:
		return nil, fmt.Errorf("searchTags: %d is outside 1..%d", n, maxSearchTags)
	}
	return baseGate{approved: c.Approved, maxAge: time.Duration(c.MaxAge), searchTags: n}, nil
}

// normalizeRepo spells a repository as go-containerregistry does
// (docker.io/alpine → index.docker.io/library/alpine).
func normalizeRepo(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil {
		return repo
	}
	return r.Name()
}

// approvedRepo reports whether repo matches one of the approved patterns.
func (g baseGate) approvedRepo(repo string) bool {
	repo = normalizeRepo(repo)
	for _, p := range g.approved {
		if matchSegments(strings.Split(normalizePattern(p), "/"), strings.Split(repo, "/")) {
			return true
		}
	}
	return false
}

func normalizePattern(p string) string {
	if strings.HasPrefix(p, "docker.io/") {
		return "index.docker.io/" + strings.TrimPrefix(p, "docker.io/")
	}
	return p
}

// matchSegments matches path segments: "**" any number, else path.Match.
func matchSegments(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegments(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], segs[0])
	return ok && matchSegments(pat[1:], segs[1:])
}

// searchable returns the approved patterns that name one repository (no
// wildcard): the only ones whose tags can be listed.
func (g baseGate) searchable() []string {
	var out []string
	for _, p := range g.approved {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
		}
	}
	return out
}
