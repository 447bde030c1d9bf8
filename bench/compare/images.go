package main

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// genLayer is a layer of incompressible pseudo-random bytes (ChaCha8 from a
// seed) in a gzip stream of stored blocks: a valid tar+gzip blob as far as
// any client looks, generated twice (once to hash, once to push) so the
// harness never holds a gigabyte in memory.
type genLayer struct {
	seed           [32]byte
	n              int64 // uncompressed bytes
	size           int64 // compressed bytes
	digest, diffID v1.Hash
}

func newGenLayer(seed uint64, n int64) (*genLayer, error) {
	l := &genLayer{n: n}
	binary.LittleEndian.PutUint64(l.seed[:], seed)
	hc, hu := sha256.New(), sha256.New()
	cw := &countWriter{w: hc}
	if err := l.writeGzip(cw, hu); err != nil {
		return nil, err
	}
	l.size = cw.n
	l.digest = v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", hc.Sum(nil))}
	l.diffID = v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", hu.Sum(nil))}
	return l, nil
}

func (l *genLayer) raw() io.Reader { return io.LimitReader(rand.NewChaCha8(l.seed), l.n) }

// writeGzip writes the compressed stream to w and, if raw is not nil, the
// uncompressed bytes to raw.
func (l *genLayer) writeGzip(w, raw io.Writer) error {
	gz, err := gzip.NewWriterLevel(w, gzip.NoCompression)
	if err != nil {
		return err
	}
	var dst io.Writer = gz
	if raw != nil {
		dst = io.MultiWriter(gz, raw)
	}
	if _, err := io.Copy(dst, l.raw()); err != nil {
		return err
	}
	return gz.Close()
}

func (l *genLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *genLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *genLayer) Size() (int64, error)                { return l.size, nil }
func (l *genLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *genLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(l.raw()), nil
}
func (l *genLayer) Compressed() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(l.writeGzip(pw, nil)) }()
	return pr, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// appImage is a single-platform OCI image whose config passes promote's
// gates: a non-root user and the OCI source/revision/version labels.
func appImage(app, revision, arch string, layers []*genLayer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	cf := &v1.ConfigFile{
		Architecture: arch, OS: "linux",
		Created: v1.Time{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		Config: v1.Config{User: "65532", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, Labels: map[string]string{
			"org.opencontainers.image.source":   "https://example.com/bench/" + app,
			"org.opencontainers.image.revision": revision,
			"org.opencontainers.image.version":  "1.0.0",
		}},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	ls := make([]v1.Layer, len(layers))
	for i, l := range layers {
		ls[i] = l
	}
	return mutate.AppendLayers(img, ls...)
}

// images are what the harness pushed to the source registry.
type images struct {
	big        map[string]*bigImage // by app: big, and biglat when -latency-size differs from -size
	fleet      []string             // app001..
	fleetDig   map[string]v1.Hash
	fleetBytes int64 // layer bytes of the whole fleet
}

// bigImage is one big image, dev/APP:v1 and v0.
type bigImage struct {
	App     string             `json:"app"`
	Bytes   int64              `json:"layer_bytes"` // compressed layer bytes of one tag
	Digests map[string]v1.Hash `json:"digests"`     // tag (v0, v1) -> index digest; v0 shares every layer of v1
}

var bigArchs = []string{"amd64", "arm64"}

// pushBig pushes dev/APP:v1 and dev/APP:v0: two-platform OCI indexes with
// layersPerArch layers per platform, size bytes of layers in all, differing
// only in their configs (a rebuild that changed a label).
func pushBig(host, app string, size int64, layersPerArch int, tr http.RoundTripper) (*bigImage, error) {
	per := size / int64(len(bigArchs)*layersPerArch)
	layers := map[string][]*genLayer{}
	b := &bigImage{App: app, Digests: map[string]v1.Hash{}}
	for i, arch := range bigArchs {
		for j := 0; j < layersPerArch; j++ {
			l, err := newGenLayer(uint64(1000+100*i+j), per)
			if err != nil {
				return nil, err
			}
			layers[arch] = append(layers[arch], l)
			b.Bytes += l.size
		}
	}
	for _, tag := range []string{"v1", "v0"} {
		idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
		for _, arch := range bigArchs {
			img, err := appImage(app, strings.Repeat(tag[1:], 40), arch, layers[arch])
			if err != nil {
				return nil, err
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: noArtifactType{img},
				Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		ref, err := name.ParseReference(host+"/dev/"+app+":"+tag, name.Insecure)
		if err != nil {
			return nil, err
		}
		if err := remote.WriteIndex(ref, idx, remote.WithTransport(tr), remote.WithJobs(4)); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", ref, err)
		}
		if b.Digests[tag], err = idx.Digest(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// noArtifactType keeps artifactType out of an image's descriptor in an
// index. go-containerregistry sets it from the config media type, as the
// OCI 1.1 spec allows; skopeo 1.9 (containers/image 5.23) does not know the
// field, drops it when it re-serialises the index, and with
// --preserve-digests then refuses the copy ("Manifest list must be
// converted ... Instructed to preserve digests"). Build tools do not set it
// on image descriptors, so neither does the benchmark.
type noArtifactType struct{ v1.Image }

func (i noArtifactType) Descriptor() (*v1.Descriptor, error) {
	d, err := partial.Descriptor(i.Image)
	if err != nil {
		return nil, err
	}
	d.ArtifactType = ""
	return d, nil
}

// pushFleet pushes count small distinct images dev/appNNN:v1.
func pushFleet(host string, count int, tr http.RoundTripper, imgs *images) error {
	imgs.fleetDig = map[string]v1.Hash{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := 1; i <= count; i++ {
		app := fmt.Sprintf("app%03d", i)
		imgs.fleet = append(imgs.fleet, app)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, n, err := pushApp(host, app, uint64(1_000_000+i), tr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			imgs.fleetDig[app] = d
			imgs.fleetBytes += n
		}()
	}
	wg.Wait()
	return firstErr
}

func pushApp(host, app string, seed uint64, tr http.RoundTripper) (v1.Hash, int64, error) {
	l, err := newGenLayer(seed, 3<<10)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	img, err := appImage(app, fmt.Sprintf("%040x", seed), "amd64", []*genLayer{l})
	if err != nil {
		return v1.Hash{}, 0, err
	}
	ref, err := name.ParseReference(host+"/dev/"+app+":v1", name.Insecure)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
		return v1.Hash{}, 0, fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	return d, l.size, err
}
