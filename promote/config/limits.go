package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits bound what one promotion reads from a source before it writes
// anything: a source registry is untrusted (whoever can push to dev controls
// it), so the manifest tree it serves is refused past these bounds.
type Limits struct {
	// MaxManifests caps the distinct manifests of one promoted tree: the
	// subject, its index children at every level, and the referrers and
	// cosign attachments of each.
	MaxManifests int
	// MaxManifestBytes caps the total size of those manifests and of the
	// image configs the gates read.
	MaxManifestBytes int64
	// MaxBlobs caps the distinct blobs (configs and layers) they list: each
	// is asked of the target before a copy.
	MaxBlobs int
	// MaxIndexDepth caps how deep indexes nest: 1 is an index of images, 2
	// an index holding an index of images.
	MaxIndexDepth int
}

// Defaults for Limits: generous for real multi-platform images with
// signatures, SBOMs and attestations (a 10-platform image with all of them
// is about 60 manifests of a few KiB), far below what a hostile index can
// list (a 4 MiB index holds about 25,000 descriptors).
const (
	DefaultMaxManifests     = 1000
	DefaultMaxManifestBytes = 32 << 20
	DefaultMaxIndexDepth    = 4
	DefaultMaxBlobs         = 10000
)

// WithDefaults returns l with every unset field at its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxManifests <= 0 {
		l.MaxManifests = DefaultMaxManifests
	}
	if l.MaxManifestBytes <= 0 {
		l.MaxManifestBytes = DefaultMaxManifestBytes
	}
	if l.MaxIndexDepth <= 0 {
		l.MaxIndexDepth = DefaultMaxIndexDepth
	}
	if l.MaxBlobs <= 0 {
		l.MaxBlobs = DefaultMaxBlobs
	}
	return l
}

var limitFields = []string{"maxManifests", "maxManifestBytes", "maxIndexDepth", "maxBlobs"}

// limits decodes the limits mapping; absent fields keep their defaults.
func (w *walker) limits(n *yaml.Node) (Limits, error) {
	l := Limits{}.WithDefaults()
	f, err := w.fields(n, "limits", "a mapping with maxManifests, maxManifestBytes, maxIndexDepth and maxBlobs", limitFields)
	if err != nil {
		return l, err
	}
	positive := func(field string, max int) (int, error) {
		e, ok := f[field]
		if !ok {
			return 0, nil
		}
		v, err := w.integer(e.val, "limits."+field)
		if err != nil {
			return 0, err
		}
		if v < 1 || v > max {
			return 0, w.errf(e.val, "limits."+field, "%d is out of range; expected an integer from 1 to %d", v, max)
		}
		return v, nil
	}
	if v, err := positive("maxManifests", 100000); err != nil {
		return l, err
	} else if v > 0 {
		l.MaxManifests = v
	}
	if v, err := positive("maxIndexDepth", 16); err != nil {
		return l, err
	} else if v > 0 {
		l.MaxIndexDepth = v
	}
	if v, err := positive("maxBlobs", 1000000); err != nil {
		return l, err
	} else if v > 0 {
		l.MaxBlobs = v
	}
	if e, ok := f["maxManifestBytes"]; ok {
		v, err := w.size(e.val, "limits.maxManifestBytes")
		if err != nil {
			return l, err
		}
		l.MaxManifestBytes = v
	}
	return l, nil
}

// size decodes a byte count: an integer, or a number with a KiB, MiB or GiB
// suffix ("64MiB"), from 1 KiB to 4 GiB.
func (w *walker) size(n *yaml.Node, path string) (int64, error) {
	s, err := w.str(n, path)
	if err != nil {
		return 0, err
	}
	const expected = "expected a size such as 33554432 or 32MiB (KiB, MiB, GiB), from 1KiB to 4GiB"
	num, mult := strings.TrimSpace(s), int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = strings.TrimSpace(v), m
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 1 || v > (4<<30)/mult {
		return 0, w.errf(n, path, "%q: %s", s, expected)
	}
	if v*mult < 1<<10 {
		return 0, w.errf(n, path, "%q is below 1KiB: %s", s, expected)
	}
	return v * mult, nil
}
