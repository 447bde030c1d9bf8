package promote

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/registry"
)

// gateSource lets gates read registries through the engine's client, with
// its authentication and retries, and nothing else: it has no write method.
type gateSource struct {
	names *registry.Client // parses names as the engine does (--insecure-registry)
	rd    reader
}

func (g gateSource) Manifest(ctx context.Context, ref string) (gates.Manifest, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return gates.Manifest{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	if rr, err := g.names.Repository(r.Context().Name()); err == nil {
		// Re-parse through the client so --insecure-registry applies.
		if d, ok := r.(name.Digest); ok {
			r = rr.Digest(d.DigestStr())
		} else {
			r = rr.Tag(r.Identifier())
		}
	}
	m, err := g.rd.Get(ctx, r)
	if err != nil {
		return gates.Manifest{}, err
	}
	return gates.Manifest{Digest: m.Digest, MediaType: m.Type, Raw: m.Raw}, nil
}

func (g gateSource) Blob(ctx context.Context, repo string, desc v1.Descriptor, max int64) ([]byte, error) {
	r, err := g.names.Repository(repo)
	if err != nil {
		return nil, err
	}
	return g.rd.FetchBlob(ctx, r, desc, max)
}

func (g gateSource) Referrers(ctx context.Context, repo string, d v1.Hash) ([]v1.Descriptor, error) {
	r, err := g.names.Repository(repo)
	if err != nil {
		return nil, err
	}
	return g.rd.Referrers(ctx, r, d)
}

func (g gateSource) Tags(ctx context.Context, repo string) ([]string, error) {
	r, err := g.names.Repository(repo)
	if err != nil {
		return nil, err
	}
	return g.rd.Tags(ctx, r)
}
