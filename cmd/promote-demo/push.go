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

// push generates a small app image (or a multi-platform index) with the
// OCI labels a real build sets and pushes it under REF.
func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	version := fs.String("version", "1.0.0", "org.opencontainers.image.version label")
	user := fs.String("user", "65532", "config User (empty or root runs as root)")
	platforms := fs.Int("platforms", 2, "1 for a single image, 2 for a linux/amd64+arm64 index")
	noLabels := fs.Bool("no-labels", false, "omit the OCI labels")
	base := fs.String("base", "", "build on this base index (its layers first, and the OCI base annotations)")
	if len(args) < 1 {
		return fmt.Errorf("push: missing REF")
	}
	refStr := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ref, err := name.ParseReference(refStr)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	kc, err := ecrKeychain()
	if err != nil {
		return err
	}
	labels := map[string]string{
		"org.opencontainers.image.source":   "https://example.com/acme/" + ref.Context().RepositoryStr(),
		"org.opencontainers.image.revision": fmt.Sprintf("%040x", time.Now().UnixNano()),
		"org.opencontainers.image.version":  *version,
	}
	if *noLabels {
		labels = nil
	}
	archs := []string{"amd64", "arm64"}[:max(1, min(*platforms, 2))]
	var imgs []v1.Image
	for _, arch := range archs {
		img, err := random.Image(64<<10, 3)
		if err != nil {
			return err
		}
		var ann map[string]string
		if *base != "" {
			b, a, err := onBase(*base, arch)
			if err != nil {
				return err
			}
			layers, err := img.Layers()
			if err != nil {
				return err
			}
			if img, err = mutate.AppendLayers(b, layers...); err != nil {
				return err
			}
			ann = a
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		cf.Config.Labels, cf.Config.User = labels, *user
		cf.Created = v1.Time{Time: time.Now().UTC()}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return err
		}
		if ann != nil {
			img = mutate.Annotations(img, ann).(v1.Image)
		}
		imgs = append(imgs, img)
	}
	var d v1.Hash
	if len(imgs) == 1 {
		if err := remote.Write(ref, imgs[0], remote.WithAuthFromKeychain(kc)); err != nil {
			return err
		}
		d, _ = imgs[0].Digest()
	} else {
		idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
		for i, img := range imgs {
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
				Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: archs[i]}}})
		}
		if err := remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(kc)); err != nil {
			return err
		}
		d, _ = idx.Digest()
	}
	fmt.Printf("pushed %s@%s\n", refStr, d)
	return nil
}
