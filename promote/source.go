package promote

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// Ref is APP[:TAG|@DIGEST] as given on the command line.
type Ref struct {
	App    string
	Tag    string
	Digest string
}

func (r Ref) String() string {
	switch {
	case r.Digest != "":
		return r.App + "@" + r.Digest
	case r.Tag != "":
		return r.App + ":" + r.Tag
	}
	return r.App
}

// ParseRef parses APP, APP:TAG or APP@DIGEST, where DIGEST may be a prefix
// of at least 12 hex digits (as history prints it). An error wraps
// errs.ErrUsage.
func ParseRef(s string) (Ref, error) {
	var r Ref
	if s == "" {
		return r, errs.Usagef("missing APP[:TAG|@DIGEST]")
	}
	app := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		app, r.Digest = s[:i], s[i+1:]
		if _, err := v1.NewHash(r.Digest); err != nil {
			p, ok := digestPrefix(r.Digest)
			if !ok {
				return r, errs.Usagef("%q: digest %q is not of the form sha256:<64 hex> (or its first 12 or more hex digits)", s, r.Digest)
			}
			r.Digest = p // expanded by resolve, against what the from environment holds
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		app, r.Tag = s[:i], s[i+1:]
		if !validTag(r.Tag) {
			return r, errs.Usagef("%q: tag %q is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})", s, r.Tag)
		}
	}
	if app == "" || strings.Contains(app, ":") {
		return r, errs.Usagef("%q: expected APP, APP:TAG or APP@DIGEST", s)
	}
	r.App = app
	return r, nil
}

// source is a resolved promotion source: the digest and where it lives.
type source struct {
	env      *config.Environment // the from environment
	repo     name.Repository
	manifest *registry.Manifest
	given    string
	tags     []string // tags the digest carries in the from environment
}

// resolve finds the source of a promotion into env: the from environment's
// repository, the digest (a tag is resolved exactly once, here) and its
// manifest. It enforces the path: a digest enters env only from env.From,
// and only if the ledger shows it was promoted there (a root environment,
// fed by pushes, is exempt).
func (e *Engine) resolve(ctx context.Context, env *config.Environment, ref Ref) (*source, error) {
	if env.From == "" {
		return nil, errs.Usagef("environment %s has no from: it is fed by pushes, not promotions; promote into an environment downstream of it", env.Name)
	}
	from, repo, err := e.repository(env.From, ref.App)
	if err != nil {
		return nil, err
	}
	src := &source{env: from, repo: repo, given: ref.String()}
	fromRoot := from.From == ""
	if p, ok := digestPrefix(ref.Digest); ok {
		if ref.Digest, err = e.expandSource(ctx, from, repo, ref.App, p); err != nil {
			return nil, err
		}
	}
	var target name.Reference
	switch {
	case ref.Digest != "":
		target = repo.Digest(ref.Digest)
	case ref.Tag != "":
		if target, err = e.reg.Tag(repo, ref.Tag); err != nil {
			return nil, err
		}
		src.tags = []string{ref.Tag}
	case fromRoot:
		return nil, errs.Usagef("%s is fed by pushes and has no ledger history: pass %s:TAG or %s@DIGEST", from.Name, ref.App, ref.App)
	default:
		cur, err := e.current(ctx, ref.App, from.Name)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: nothing has been promoted to %s for %s yet, so there is no current digest to promote", errs.ErrConflict, from.Name, ref.App)
		}
		target = repo.Digest(cur.Digest)
	}
	if ref.Digest != "" && !fromRoot {
		// Check the path before asking the registry: the digest may not be there at all.
		if err := e.checkPath(ctx, env, ref.App, ref.Digest, src); err != nil {
			return src, err
		}
	}
	m, err := e.rd.Get(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("resolving %s in %s: %w", ref, from.Name, err)
	}
	src.manifest = m
	if fromRoot || ref.Digest != "" {
		return src, nil
	}
	return src, e.checkPath(ctx, env, ref.App, m.Digest.String(), src)
}

// checkPath enforces invariant 3 for a digest entering env from from. On
// success it fills src.tags, when no tag was given, with the tags the
// digest carries in from.
func (e *Engine) checkPath(ctx context.Context, env *config.Environment, app, digest string, src *source) error {
	from := src.env
	rec, err := e.promotedTo(ctx, app, from.Name, digest)
	if err != nil {
		return err
	}
	if rec == nil {
		if src.manifest == nil {
			if h, herr := v1.NewHash(digest); herr == nil {
				src.manifest = &registry.Manifest{Digest: h}
			}
		}
		return &PathError{App: app, Env: env.Name, From: from.Name, Digest: digest}
	}
	if src.tags == nil {
		src.tags = rec.Tags
	}
	return nil
}

// PathError says a digest was never promoted to the environment it must come
// from. It matches errs.ErrConflict.
type PathError struct{ App, Env, From, Digest string }

func (p *PathError) Error() string {
	return fmt.Sprintf("%s: %s@%s was never promoted to %s, so it cannot enter %s; promote it to %s first",
		errs.ErrConflict, p.App, p.Digest, p.From, p.Env, p.From)
}

// Is makes a *PathError match errs.ErrConflict.
func (p *PathError) Is(target error) bool { return target == errs.ErrConflict }

// current returns the record that set what env holds for app now, or nil.
func (e *Engine) current(ctx context.Context, app, env string) (*ledger.Record, error) {
	return e.currentUntil(ctx, app, env, time.Time{})
}

// currentUntil is current as of records before until (zero: no bound).
func (e *Engine) currentUntil(ctx context.Context, app, env string, until time.Time) (*ledger.Record, error) {
	return e.reader().currentUntil(ctx, app, env, until)
}

// promotedTo returns the latest promotion of digest into env, or nil.
func (e *Engine) promotedTo(ctx context.Context, app, env, digest string) (*ledger.Record, error) {
	recs, err := e.led.Records(ctx, ledger.Query{App: app, Env: env, Kinds: []ledger.Kind{ledger.KindPromotion}, Digest: digest, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return &recs[0], nil
}

// repository is the environment envName and its repository of app.
func (e *Engine) repository(envName, app string) (*config.Environment, name.Repository, error) {
	env, err := e.cfg.Env(envName)
	if err != nil {
		return nil, name.Repository{}, err
	}
	s, err := env.RepositoryFor(app)
	if err != nil {
		return nil, name.Repository{}, err
	}
	repo, err := e.reg.Repository(s)
	return env, repo, err
}
