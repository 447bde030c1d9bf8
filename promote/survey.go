package promote

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// targetState is what the target holds, gathered before planning.
type targetState struct {
	manifests map[v1.Hash]bool   // present by digest
	attach    map[string]v1.Hash // legacy attachment tag -> digest it names
	blobs     map[v1.Hash]bool
	mountFrom map[v1.Hash]string // missing blob -> repository on the target registry that held it
	tags      map[string]v1.Hash // environment tag -> digest it names (absent = missing)
}

// surveying is the survey of a target: it asks what the target holds,
// every manifest by digest, every attachment tag, every environment tag
// and every blob, each once, from the moment it is known (a promotion
// starts it when the source's content is in, before the attachments and
// tags are). What is asked goes out at once, within the client's lookups,
// and asking never waits; finish waits for the answers. Blobs are asked
// even where a manifest the target has would imply them (registries refuse
// a manifest whose blobs are missing): waiting for the manifests' answers
// first would cost a round trip on every promotion with something to copy,
// and asking costs only small requests on one without.
type surveying struct {
	e      *Engine
	dst    name.Repository
	g      *errgroup.Group
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	st     *targetState
	asked  map[string]bool // "m:" manifest digests, "a:" attachment tags, "t:" tags, "b:" blobs
}

func (e *Engine) startSurvey(ctx context.Context, dst name.Repository) *surveying {
	s := &surveying{e: e, dst: dst, asked: map[string]bool{},
		st: &targetState{manifests: map[v1.Hash]bool{}, attach: map[string]v1.Hash{}, blobs: map[v1.Hash]bool{}, tags: map[string]v1.Hash{}}}
	ctx, s.cancel = context.WithCancel(ctx)
	s.g, s.ctx = errgroup.WithContext(ctx)
	s.sem = make(chan struct{}, e.reg.Lookups())
	return s
}

// do runs q in the background within the client's lookups.
func (s *surveying) do(q func() error) {
	s.g.Go(func() error {
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
		defer func() { <-s.sem }()
		return q()
	})
}

// stop ends what is still being asked (a run that ends before its plan).
func (s *surveying) stop() { s.cancel() }

// first reports whether key is asked for the first time.
func (s *surveying) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asked[key] {
		return false
	}
	s.asked[key] = true
	return true
}

// head asks whether ref exists and hands its digest to set.
func (s *surveying) head(ref name.Reference, set func(v1.Hash)) {
	s.do(func() error {
		d, err := s.e.rd.Head(s.ctx, ref)
		if err != nil || d == nil {
			return err
		}
		s.mu.Lock()
		set(d.Digest)
		s.mu.Unlock()
		return nil
	})
}

// ask asks for each of nodes' manifests, legacy tags and blobs not asked yet.
func (s *surveying) ask(nodes []*node) {
	for _, n := range nodes {
		if s.first("m:" + n.m.Digest.String()) {
			s.head(s.dst.Digest(n.m.Digest.String()), func(v1.Hash) { s.st.manifests[n.m.Digest] = true })
		}
		if n.tag != "" && s.first("a:"+n.tag) {
			s.head(s.dst.Tag(n.tag), func(d v1.Hash) { s.st.attach[n.tag] = d })
		}
		for _, b := range n.blobs {
			if !s.first("b:" + b.Digest.String()) {
				continue
			}
			s.do(func() error {
				ok, err := s.e.rd.BlobExists(s.ctx, s.dst, b.Digest)
				if ok {
					s.mu.Lock()
					s.st.blobs[b.Digest] = true
					s.mu.Unlock()
				}
				return err
			})
		}
	}
}

// askTags asks which digest each environment tag names.
func (s *surveying) askTags(tags []string) error {
	for _, t := range tags {
		tag, err := s.e.reg.Tag(s.dst, t)
		if err != nil {
			return err
		}
		if s.first("t:" + t) {
			s.head(tag, func(d v1.Hash) { s.st.tags[t] = d })
		}
	}
	return nil
}

// finish waits for every answer and says, for each blob the target lacks,
// where on its registry it could be mounted from: a repository the blob
// cache remembers, or one the ledger shows holding it.
func (s *surveying) finish(ctx context.Context, src name.Repository, root *node) (*targetState, error) {
	if err := s.g.Wait(); err != nil {
		return nil, fmt.Errorf("surveying %s: %w", s.dst, err)
	}
	e, dst, st := s.e, s.dst, s.st
	st.mountFrom = map[v1.Hash]string{}
	unknown := map[v1.Hash]int64{} // missing, and no remembered location
	for _, n := range root.order() {
		if st.manifests[n.m.Digest] {
			continue // its blobs are there: nothing to mount
		}
		for _, b := range n.blobs {
			if st.blobs[b.Digest] {
				continue
			}
			if from := e.blobs.Where(dst.RegistryStr(), b.Digest); from != "" && from != dst.RepositoryStr() {
				st.mountFrom[b.Digest] = from
			} else {
				unknown[b.Digest] = b.Size
			}
		}
	}
	if src.RegistryStr() != dst.RegistryStr() { // on one registry, blobs mount from the source itself
		for d, from := range e.ledgerMountSources(ctx, dst, unknown) {
			st.mountFrom[d] = from
		}
	}
	return st, nil
}

// surveyTags returns the digest each environment tag names in dst now
// (absent tags are missing from the map): a survey of the tags alone.
func (e *Engine) surveyTags(ctx context.Context, dst name.Repository, tags []string) (map[string]v1.Hash, error) {
	s := e.startSurvey(ctx, dst)
	defer s.stop()
	if err := s.askTags(tags); err != nil {
		return nil, err
	}
	if err := s.g.Wait(); err != nil {
		return nil, fmt.Errorf("checking tags in %s: %w", dst, err)
	}
	return s.st.tags, nil
}
