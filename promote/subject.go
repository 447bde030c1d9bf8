package promote

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/promote-dev/promote/gates"
)

// maxConfigBytes bounds an image config read into memory for the gates.
const maxConfigBytes = 8 << 20

// inspect fetches everything a promotion of src moves (the manifest tree
// with its referrers) and what its gates judge, each manifest once.
func (e *Engine) inspect(ctx context.Context, src *source) (*node, *gates.Subject, error) {
	root, err := e.fetchTree(ctx, src.repo, src.manifest)
	if err != nil {
		return nil, nil, err
	}
	subj, err := e.subject(ctx, src.repo, root)
	if err != nil {
		return nil, nil, err
	}
	if scans := e.ecr.scans(src.env.Name, src.repo.RepositoryStr()); scans != nil {
		subj.Scans = scans
	}
	return root, subj, nil
}

// subject builds what the gates judge from the fetched tree: one Image per
// image manifest at any level of the tree (images), with its config.
func (e *Engine) subject(ctx context.Context, repo name.Repository, root *node) (*gates.Subject, error) {
	s := &gates.Subject{
		Repository: repo.Name(),
		Digest:     root.m.Digest,
		MediaType:  root.m.Type,
		Manifest:   root.m.Raw,
		Now:        e.now().UTC(),
		Source:     gateSource{e.reg},
	}
	s.Attachments = attachments(root)
	imgs, err := images(root)
	if err != nil {
		return nil, err
	}
	s.Images = make([]gates.Image, len(imgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Jobs())
	for i, n := range imgs {
		g.Go(func() error {
			img, err := e.image(gctx, repo, n)
			s.Images[i] = img
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}

// attachments lists every referrer in the tree with the digest it is
// attached to: the subject's, its children's, and referrers' own, each
// manifest's once.
func attachments(root *node) []gates.Attachment {
	var out []gates.Attachment
	seen := map[*node]bool{}
	var visit func(n *node)
	visit = func(n *node) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, r := range n.referrers {
			a := gates.Attachment{Subject: n.m.Digest, Digest: r.m.Digest, MediaType: r.m.Type, Tag: r.tag, Manifest: r.m.Raw}
			if p, err := parseManifest(r.m); err == nil {
				a.ArtifactType = p.ArtifactType
				if a.ArtifactType == "" && p.Config != nil {
					a.ArtifactType = string(p.Config.MediaType)
				}
			}
			out = append(out, a)
			visit(r)
		}
		for _, c := range n.children {
			visit(c)
		}
	}
	visit(root)
	return out
}

func (e *Engine) image(ctx context.Context, repo name.Repository, n *node) (gates.Image, error) {
	img := gates.Image{Platform: n.platform, Digest: n.m.Digest, Manifest: n.m.Raw}
	p, err := parseManifest(n.m)
	if err != nil {
		return img, err
	}
	if p.Config == nil {
		return img, fmt.Errorf("manifest %s has no config", n.m.Digest)
	}
	raw, err := e.reg.FetchBlob(ctx, repo, *p.Config, maxConfigBytes)
	if err != nil {
		return img, err
	}
	img.ConfigRaw = raw
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return img, fmt.Errorf("config %s of %s: %w", p.Config.Digest, n.m.Digest, err)
	}
	img.Config = cf
	if img.Platform == nil && cf.OS != "" {
		img.Platform = &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	}
	return img, nil
}
