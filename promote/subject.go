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
// with its referrers) and what its gates judge, each manifest once. The
// image configs are read as soon as the content's manifests are in, while
// what is attached to them is still being looked up; onContent, if set,
// hears of the content then too (root.content() is safe to read).
func (e *Engine) inspect(ctx context.Context, src *source, onContent func(root *node)) (*node, *gates.Subject, error) {
	f, root, err := e.startTree(ctx, src.repo, src.manifest)
	if err != nil {
		return nil, nil, err
	}
	if onContent != nil {
		onContent(root)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var subj *gates.Subject
	var configs int64
	read := make(chan error, 1)
	go func() {
		var err error
		subj, configs, err = e.subject(cctx, src.repo, root, f.size())
		read <- err
	}()
	size, err := f.finish(root)
	if err != nil {
		cancel()
		<-read
		return nil, nil, err
	}
	if err := <-read; err != nil {
		return nil, nil, err
	}
	if err := checkTreeBytes(e.cfg.Limits.WithDefaults().MaxManifestBytes, root, size+configs); err != nil {
		return nil, nil, err
	}
	subj.Attachments = attachments(root)
	if scans := e.ecr.scans(src.env.Name, src.repo.RepositoryStr()); scans != nil {
		subj.Scans = scans
	}
	return root, subj, nil
}

// checkTreeBytes refuses a tree whose manifests and image configs add up
// to more than limits.maxManifestBytes.
func checkTreeBytes(lim int64, root *node, size int64) error {
	if size > lim {
		return &TreeError{Digest: root.m.Digest, Problem: fmt.Sprintf("its manifests and image configs exceed limits.maxManifestBytes %d bytes; raise the limit in environments.yaml only for a tree you trust", lim)}
	}
	return nil
}

// subject builds what the gates judge from the tree's content (its
// attachments may still be on their way): one Image per image manifest at
// any level of the tree (images), with its config. Each config is read once
// however many images share it, and the configs count, by their
// descriptors' sizes and before any is read, against
// limits.maxManifestBytes with the manifests fetched so far (size). It
// returns the configs' total size, for the check of the whole tree.
func (e *Engine) subject(ctx context.Context, repo name.Repository, root *node, size int64) (*gates.Subject, int64, error) {
	s := &gates.Subject{
		Repository: repo.Name(),
		Digest:     root.m.Digest,
		MediaType:  root.m.Type,
		Manifest:   root.m.Raw,
		Now:        e.now().UTC(),
		Source:     gateSource{names: e.reg, rd: e.rd},
	}
	imgs, err := images(root)
	if err != nil {
		return nil, 0, err
	}
	descs := make([]v1.Descriptor, len(imgs))
	var configs int64
	byDigest := map[v1.Hash]*imageConfig{}
	var order []*imageConfig
	for i, n := range imgs {
		p, err := parseManifest(n.m)
		if err != nil {
			return nil, 0, err
		}
		if p.Config == nil {
			return nil, 0, fmt.Errorf("manifest %s has no config", n.m.Digest)
		}
		descs[i] = *p.Config
		if byDigest[p.Config.Digest] == nil {
			c := &imageConfig{desc: *p.Config, of: n.m.Digest}
			byDigest[p.Config.Digest], order = c, append(order, c)
			if c.desc.Size <= 0 || c.desc.Size > maxConfigBytes {
				return nil, 0, &TreeError{Digest: root.m.Digest, Problem: fmt.Sprintf("config %s of %s declares %d bytes; an image config is 1 byte to %d bytes", c.desc.Digest, n.m.Digest, c.desc.Size, maxConfigBytes)}
			}
			configs += c.desc.Size
		}
	}
	if err := checkTreeBytes(e.cfg.Limits.WithDefaults().MaxManifestBytes, root, size+configs); err != nil {
		return nil, 0, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.reg.Lookups())
	for _, c := range order {
		g.Go(func() error { return c.read(gctx, e.rd, repo) })
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	s.Images = make([]gates.Image, len(imgs))
	for i, n := range imgs {
		c := byDigest[descs[i].Digest]
		n.config = c
		img := gates.Image{Platform: n.platform, Digest: n.m.Digest, Manifest: n.m.Raw, ConfigRaw: c.raw, Config: c.file}
		if img.Platform == nil && c.file.OS != "" {
			img.Platform = &v1.Platform{OS: c.file.OS, Architecture: c.file.Architecture, Variant: c.file.Variant}
		}
		s.Images[i] = img
	}
	return s, configs, nil
}

// imageConfig is one image config the gates read, shared by every image
// manifest that names it.
type imageConfig struct {
	desc v1.Descriptor
	of   v1.Hash // the first image manifest naming it, for errors
	raw  []byte
	file *v1.ConfigFile
}

func (c *imageConfig) read(ctx context.Context, reg reader, repo name.Repository) error {
	raw, err := reg.FetchBlob(ctx, repo, c.desc, c.desc.Size)
	if err != nil {
		return err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("config %s of %s: %w", c.desc.Digest, c.of, err)
	}
	c.raw, c.file = raw, cf
	return nil
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
