package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pushBase generates a linux/amd64+arm64 base image built AGE days ago
// and pushes it under REF: the approved base the demo's apps build on.
func pushBase(args []string) error {
	fs := flag.NewFlagSet("push-base", flag.ContinueOnError)
	age := fs.Int("age", 0, "days since the base was built")
	if len(args) < 1 {
		return fmt.Errorf("push-base: missing REF")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ref, err := name.ParseReference(args[0])
	if err != nil {
		return fmt.Errorf("push-base: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(32<<10, 2)
		if err != nil {
			return err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		cf.Created = v1.Time{Time: time.Now().UTC().Add(-time.Duration(*age) * 24 * time.Hour)}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		return err
	}
	d, _ := idx.Digest()
	fmt.Printf("pushed %s@%s\n", args[0], d)
	return nil
}

// onBase is the platform arch of the base index at baseRef, and the
// annotations that name it: the app's layers go on top of it.
func onBase(baseRef, arch string) (v1.Image, map[string]string, error) {
	ref, err := name.ParseReference(baseRef)
	if err != nil {
		return nil, nil, fmt.Errorf("--base: %w", err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("reading base %s: %w", baseRef, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.Architecture == arch {
			img, err := idx.Image(m.Digest)
			if err != nil {
				return nil, nil, err
			}
			return img, map[string]string{"org.opencontainers.image.base.name": baseRef,
				"org.opencontainers.image.base.digest": m.Digest.String()}, nil
		}
	}
	return nil, nil, fmt.Errorf("base %s has no linux/%s image", baseRef, arch)
}
