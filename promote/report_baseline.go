package promote

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/gates"
)

// versionTag is a tag that names a version: v?N(.N)*, then an optional
// suffix (-alpine, -slim).
var versionTag = regexp.MustCompile(`^(v?)(\d+(?:\.\d+)*)(-[A-Za-z0-9._-]+)?$`)

// newerInLine is the newest tag of tag's version line in its repository:
// the same leading numbers, prefix and suffix, a higher last number
// (3.19.4 after 3.19.1; 1.4 after 1.2; 3.19.4-alpine after
// 3.19.1-alpine). "" when tag names no version, one number alone (2
// after 1 is a new major version), or none is newer.
func newerInLine(ctx context.Context, src gates.Source, tag string) (string, error) {
	ref, err := name.NewTag(tag)
	if err != nil {
		return "", nil
	}
	m := versionTag.FindStringSubmatch(ref.TagStr())
	if m == nil {
		return "", nil
	}
	nums := strings.Split(m[2], ".")
	if len(nums) < 2 {
		return "", nil // 1 to 2 is a new major version, not the same line
	}
	last, _ := strconv.Atoi(nums[len(nums)-1])
	head := strings.Join(nums[:len(nums)-1], ".")
	tags, err := src.Tags(ctx, ref.Context().Name())
	if err != nil {
		return "", err
	}
	best, bestN := "", last
	for _, t := range tags {
		c := versionTag.FindStringSubmatch(t)
		if c == nil || c[1] != m[1] || c[3] != m[3] {
			continue
		}
		cn := strings.Split(c[2], ".")
		if len(cn) != len(nums) || strings.Join(cn[:len(cn)-1], ".") != head {
			continue
		}
		if n, err := strconv.Atoi(cn[len(cn)-1]); err == nil && n > bestN {
			best, bestN = t, n
		}
	}
	if best == "" {
		return "", nil
	}
	return ref.Context().Name() + ":" + best, nil
}
