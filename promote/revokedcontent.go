package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// What a revocation covers is more than its digest: every manifest of the
// content it names (the images of an index, nested indexes included) and
// every image's config, recorded with the revocation (Record.Content). So
// an index of a revoked image is refused, and so is the revoked image
// wrapped in a new manifest (an annotation added gives a new digest but
// the same config and layers).

// contentDigests walks the content tree under m in repo (index entries,
// nested, within the configured limits; never attachments) and returns
// every manifest digest and every image config digest in it, m's first.
// A manifest it cannot read or parse is an error: a revocation check
// fails closed.
func (e *Engine) contentDigests(ctx context.Context, repo name.Repository, m *registry.Manifest) ([]string, error) {
	lim := e.cfg.Limits
	var out []string
	var walk func(m *registry.Manifest, depth int) error
	walk = func(m *registry.Manifest, depth int) error {
		if slices.Contains(out, m.Digest.String()) {
			return nil
		}
		out = append(out, m.Digest.String())
		if len(out) > lim.MaxManifests {
			return fmt.Errorf("%s@%s holds more than %d manifests (limits.maxManifests)", repo.Name(), m.Digest, lim.MaxManifests)
		}
		p, err := parseManifest(m)
		if err != nil {
			return err
		}
		if p.Config != nil && len(p.Manifests) == 0 {
			out = append(out, p.Config.Digest.String())
		}
		if len(p.Manifests) > 0 && depth >= lim.MaxIndexDepth {
			return fmt.Errorf("%s@%s nests indexes deeper than %d (limits.maxIndexDepth)", repo.Name(), m.Digest, lim.MaxIndexDepth)
		}
		for _, d := range p.Manifests {
			child, err := e.rd.Get(ctx, repo.Digest(d.Digest.String()))
			if err != nil {
				return fmt.Errorf("reading %s@%s, within %s: %w", repo.Name(), d.Digest, m.Digest, err)
			}
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(m, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// revokedContent finds the content of digest in the pipeline's
// repositories for app, first to last environment: what a revocation
// records it covers. Nil when no repository holds it (a digest never
// pushed, or deleted): the revocation then covers that digest alone.
func (e *Engine) revokedContent(ctx context.Context, app, digest string) ([]string, error) {
	for _, env := range e.cfg.Environments {
		_, repo, err := e.repository(env.Name, app)
		if err != nil {
			return nil, err
		}
		m, err := e.rd.Get(ctx, repo.Digest(digest))
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s@%s to record what the revocation covers: %w", repo.Name(), digest, err)
		}
		all, err := e.contentDigests(ctx, repo, m)
		if err != nil {
			return nil, err
		}
		return all[1:], nil
	}
	return nil, nil
}

// revokedSet maps every digest the revocations in force cover (their own
// and their Content) to the revocation.
func revokedSet(revs map[string]ledger.Record) map[string]ledger.Record {
	set := make(map[string]ledger.Record, len(revs))
	for d, rec := range revs {
		set[d] = rec
		for _, c := range rec.Content {
			if _, ok := set[c]; !ok {
				set[c] = rec
			}
		}
	}
	return set
}

// coveredBy returns the revocation in force (set: revokedSet) that covers
// what env runs for app, digest, or nil: digest itself, or, read from the
// environment's repository, any manifest or image config in its tree (a
// revoked platform image inside the index the environment runs).
func (e *Engine) coveredBy(ctx context.Context, env, app, digest string, set map[string]ledger.Record) (*ledger.Record, error) {
	if rec, ok := set[digest]; ok {
		return &rec, nil
	}
	_, repo, err := e.repository(env, app)
	if err != nil {
		return nil, err
	}
	m, err := e.rd.Get(ctx, repo.Digest(digest))
	if err != nil {
		return nil, fmt.Errorf("reading %s@%s, which %s runs, to check it against the revocations: %w", repo.Name(), digest, env, err)
	}
	all, err := e.contentDigests(ctx, repo, m)
	if err != nil {
		return nil, err
	}
	for _, d := range all {
		if rec, ok := set[d]; ok {
			return &rec, nil
		}
	}
	return nil, nil
}

// revokedRunning completes a status with what its ledger-only reading
// cannot see: an environment running content a revocation (revs, as the
// status read them) covers inside the digest it runs. An environment whose
// content cannot be read is named in st.Unchecked, with why.
func (e *Engine) revokedRunning(ctx context.Context, st *Status, revs map[string]ledger.Record) {
	if len(revs) == 0 {
		return
	}
	set := revokedSet(revs)
	for i := range st.Environments {
		es := &st.Environments[i]
		if es.Digest == "" || es.Revoked != nil {
			continue
		}
		rec, err := e.coveredBy(ctx, es.Env, st.App, es.Digest, set)
		if err != nil {
			st.Unchecked = append(st.Unchecked, fmt.Sprintf("%s: %v", es.Env, err))
			continue
		}
		if rec != nil {
			es.Revoked = rec
			st.RunningRevoked = append(st.RunningRevoked, es.Env)
		}
	}
}
