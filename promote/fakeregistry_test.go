package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
)

// fakeRegistry is every registry of a test in maps, behind the engine's
// reader and writer. It keeps what a real registry keeps (a manifest is
// refused until its blobs and children are there) and logs every write
// in order, with the ledger appends (loggingLedger) in the same log.
type fakeRegistry struct {
	t         testing.TB
	mu        sync.Mutex
	manifests map[string]*registry.Manifest // repo@digest
	tags      map[string]v1.Hash            // repo:tag
	blobs     map[string][]byte             // repo@digest
	writes    []string                      // "blob D", "manifest D", "tag T", "record KIND"
	// beforePut runs before a write of ref, outside the lock: a hook for
	// another writer racing the engine.
	beforePut func(ref name.Reference)
}

var _ reader = (*fakeRegistry)(nil)
var _ writer = (*fakeRegistry)(nil)

func newFakeRegistry(t testing.TB) *fakeRegistry {
	return &fakeRegistry{t: t, manifests: map[string]*registry.Manifest{}, tags: map[string]v1.Hash{}, blobs: map[string][]byte{}}
}

func (f *fakeRegistry) note(w string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, w)
}

// written returns the write log so far.
func (f *fakeRegistry) written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

func notFound(what string) error { return fmt.Errorf("%w: %s", errs.ErrNotFound, what) }

// lookup finds what ref names; the caller holds mu.
func (f *fakeRegistry) lookup(ref name.Reference) *registry.Manifest {
	repo := ref.Context().Name()
	if d, ok := ref.(name.Digest); ok {
		return f.manifests[repo+"@"+d.DigestStr()]
	}
	d, ok := f.tags[repo+":"+ref.Identifier()]
	if !ok {
		return nil
	}
	return f.manifests[repo+"@"+d.String()]
}

func (f *fakeRegistry) Get(_ context.Context, ref name.Reference) (*registry.Manifest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.lookup(ref); m != nil {
		return m, nil
	}
	return nil, notFound(ref.String())
}

func (f *fakeRegistry) Head(_ context.Context, ref name.Reference) (*v1.Descriptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.lookup(ref); m != nil {
		d := m.Descriptor()
		return &d, nil
	}
	return nil, nil
}

func (f *fakeRegistry) BlobExists(_ context.Context, repo name.Repository, d v1.Hash) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.blobs[repo.Name()+"@"+d.String()]
	return ok, nil
}

func (f *fakeRegistry) FetchBlob(_ context.Context, repo name.Repository, desc v1.Descriptor, max int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blobs[repo.Name()+"@"+desc.Digest.String()]
	if !ok {
		return nil, notFound(desc.Digest.String())
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("blob %s: %d bytes, more than %d", desc.Digest, len(b), max)
	}
	return b, nil
}

// Referrers lists the manifests of repo whose subject is d, as the OCI 1.1
// referrers API does.
func (f *fakeRegistry) Referrers(_ context.Context, repo name.Repository, d v1.Hash) ([]v1.Descriptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []v1.Descriptor
	for k, m := range f.manifests {
		if !strings.HasPrefix(k, repo.Name()+"@") {
			continue
		}
		var p parsed
		if json.Unmarshal(m.Raw, &p) != nil || p.Subject == nil || p.Subject.Digest != d {
			continue
		}
		desc := m.Descriptor()
		desc.ArtifactType = p.ArtifactType
		if desc.ArtifactType == "" && p.Config != nil {
			desc.ArtifactType = string(p.Config.MediaType)
		}
		out = append(out, desc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest.String() < out[j].Digest.String() })
	return out, nil
}

func (f *fakeRegistry) Warm(context.Context, name.Repository) {}

func (f *fakeRegistry) OpenUploads(context.Context, name.Repository, []v1.Descriptor) {}

func (f *fakeRegistry) Tags(_ context.Context, repo name.Repository) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.tags {
		if t, ok := strings.CutPrefix(k, repo.Name()+":"); ok {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeRegistry) CopyBlob(_ context.Context, src, dst name.Repository, desc v1.Descriptor) error {
	return f.copyBlob(src, dst, desc.Digest)
}

func (f *fakeRegistry) MountBlob(_ context.Context, _, from, dst name.Repository, desc v1.Descriptor) error {
	return f.copyBlob(from, dst, desc.Digest)
}

func (f *fakeRegistry) copyBlob(src, dst name.Repository, d v1.Hash) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blobs[src.Name()+"@"+d.String()]
	if !ok {
		return notFound("blob " + d.String() + " in " + src.Name())
	}
	f.blobs[dst.Name()+"@"+d.String()] = b
	f.writes = append(f.writes, "blob "+d.String())
	return nil
}

func (f *fakeRegistry) PutBlob(_ context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error) {
	d, size, err := v1.SHA256(strings.NewReader(string(data)))
	if err != nil {
		return v1.Descriptor{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blobs[repo.Name()+"@"+d.String()] = data
	f.writes = append(f.writes, "blob "+d.String())
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, nil
}

// Put stores m under ref, refusing it, as a registry does, while a blob or
// child it names is missing from the repository.
func (f *fakeRegistry) Put(_ context.Context, ref name.Reference, m *registry.Manifest) error {
	if f.beforePut != nil {
		f.beforePut(ref)
	}
	var p parsed
	if err := json.Unmarshal(m.Raw, &p); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	repo := ref.Context().Name()
	need := append(append([]v1.Descriptor{}, p.Layers...), p.Blobs...)
	if p.Config != nil {
		need = append(need, *p.Config)
	}
	for _, b := range need {
		if _, ok := f.blobs[repo+"@"+b.Digest.String()]; !ok {
			return fmt.Errorf("manifest %s: blob %s unknown to %s", m.Digest, b.Digest, repo)
		}
	}
	for _, c := range p.Manifests {
		if _, ok := f.manifests[repo+"@"+c.Digest.String()]; !ok {
			return fmt.Errorf("index %s: manifest %s unknown to %s", m.Digest, c.Digest, repo)
		}
	}
	f.manifests[repo+"@"+m.Digest.String()] = m
	if _, ok := ref.(name.Digest); ok {
		f.writes = append(f.writes, "manifest "+m.Digest.String())
		return nil
	}
	f.tags[repo+":"+ref.Identifier()] = m.Digest
	f.writes = append(f.writes, "tag "+ref.Identifier())
	return nil
}

// seed stores x (an image or an index, with everything under it) in repo
// without logging a write, and returns its descriptor.
func (f *fakeRegistry) seed(repo string, x partial.WithRawManifest) v1.Descriptor {
	t := f.t
	t.Helper()
	raw, err := x.RawManifest()
	require.NoError(t, err)
	d, size, err := v1.SHA256(strings.NewReader(string(raw)))
	require.NoError(t, err)
	var p parsed
	require.NoError(t, json.Unmarshal(raw, &p))
	switch x := x.(type) {
	case v1.ImageIndex:
		for _, c := range p.Manifests {
			img, err := x.Image(c.Digest)
			require.NoError(t, err)
			f.seed(repo, img)
		}
	case v1.Image:
		cfg, err := x.RawConfigFile()
		require.NoError(t, err)
		f.seedBlob(repo, p.Config.Digest, cfg)
		layers, err := x.Layers()
		require.NoError(t, err)
		for _, l := range layers {
			ld, err := l.Digest()
			require.NoError(t, err)
			rc, err := l.Compressed()
			require.NoError(t, err)
			b, err := io.ReadAll(rc)
			require.NoError(t, err)
			f.seedBlob(repo, ld, b)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.manifests[repo+"@"+d.String()] = &registry.Manifest{Digest: d, Type: p.MediaType, Raw: raw}
	return v1.Descriptor{MediaType: p.MediaType, Digest: d, Size: size}
}

func (f *fakeRegistry) seedBlob(repo string, d v1.Hash, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blobs[repo+"@"+d.String()] = b
}

// seedTag points repo:tag at d, without logging a write.
func (f *fakeRegistry) seedTag(repo, tag string, d v1.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags[repo+":"+tag] = d
}

// loggingLedger puts each append into the fake registry's write log, so
// one log shows the order of registry writes and records.
type loggingLedger struct {
	ledger.Ledger
	f *fakeRegistry
}

func (l loggingLedger) Append(ctx context.Context, rec *ledger.Record, head ledger.Head) error {
	err := l.Ledger.Append(ctx, rec, head)
	if err == nil {
		l.f.note("record " + string(rec.Kind))
	}
	return err
}
