package gates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/promote-dev/promote/sigverify"
)

// signedFixtures holds keys and signatures made by the real cosign CLI.
var signedFixtures = filepath.Join("..", "testdata", "signed")

func signedFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{signedFixtures}, parts...)...))
	require.NoError(t, err)
	return b
}

func signedFixtureDigest(t *testing.T, version string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(strings.TrimSpace(string(signedFixture(t, version, "subject.txt"))))
	require.NoError(t, err)
	return h
}

// yamlSettings is what the configuration loader hands a factory: a strict
// decoder of src and the directory relative paths resolve against.
func yamlSettings(src, dir string) Settings {
	return Settings{Dir: dir, Decode: func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		return dec.Decode(v)
	}}
}

// signedGateFrom builds the signed gate from a YAML block, as environments.yaml would.
func signedGateFrom(t *testing.T, src, dir string) Gate {
	t.Helper()
	f, ok := Lookup(SignedGate)
	require.True(t, ok, "the signed gate is registered")
	g, err := f(yamlSettings(src, dir))
	require.NoError(t, err)
	return g
}

func sha(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
}

// blobSource serves blobs from memory, as a registry would through the
// engine's Source, and records what was read.
type blobSource struct {
	mu    sync.Mutex
	blobs map[v1.Hash][]byte
	reads []string
	fail  error
}

func newBlobSource() *blobSource { return &blobSource{blobs: map[v1.Hash][]byte{}} }

func (b *blobSource) put(data []byte) v1.Descriptor {
	d := sha(data)
	b.blobs[d] = data
	return v1.Descriptor{Digest: d, Size: int64(len(data))}
}

func (b *blobSource) Blob(_ context.Context, repo string, desc v1.Descriptor, max int64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads = append(b.reads, repo+"@"+desc.Digest.String())
	if b.fail != nil {
		return nil, b.fail
	}
	data, ok := b.blobs[desc.Digest]
	if !ok {
		return nil, errors.New("blob unknown")
	}
	if int64(len(data)) > max {
		return nil, errors.New("blob too large")
	}
	return data, nil
}

func (b *blobSource) Manifest(context.Context, string) (Manifest, error) {
	return Manifest{}, errors.New("not served")
}

func (b *blobSource) Referrers(context.Context, string, v1.Hash) ([]v1.Descriptor, error) {
	return nil, errors.New("not served")
}

func (b *blobSource) Tags(context.Context, string) ([]string, error) {
	return nil, errors.New("not served")
}

// layer is one layer of an attachment manifest to build.
type layer struct {
	mediaType   string
	blob        []byte
	annotations map[string]string
}

// attach stores layers' blobs in src and returns the attachment: a legacy
// tag manifest when tag is set, else a sigstore bundle referrer.
func attach(t *testing.T, src *blobSource, subject v1.Hash, tag string, layers ...layer) Attachment {
	t.Helper()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Size: 2, Digest: sha([]byte("{}"))}}
	for _, l := range layers {
		d := src.put(l.blob)
		d.MediaType, d.Annotations = types.MediaType(l.mediaType), l.annotations
		m.Layers = append(m.Layers, d)
	}
	a := Attachment{Subject: subject, MediaType: types.OCIManifestSchema1, Tag: tag}
	if tag == "" {
		m.ArtifactType = sigverify.BundleMediaType
		m.Subject = &v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: subject, Size: 1}
		a.ArtifactType = sigverify.BundleMediaType
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	a.Manifest, a.Digest = raw, sha(raw)
	return a
}

// fixtureAttachment re-creates an attachment cosign pushed (fixture
// manifest and blob) attached to subject.
func fixtureAttachment(t *testing.T, src *blobSource, subject v1.Hash, version, manifest, blob string) Attachment {
	t.Helper()
	raw := signedFixture(t, version, manifest)
	src.put(signedFixture(t, version, blob))
	a := Attachment{Subject: subject, Digest: sha(raw), MediaType: types.OCIManifestSchema1, Manifest: raw}
	switch {
	case strings.HasPrefix(manifest, "sig."):
		a.Tag = "sha256-" + subject.Hex + ".sig"
	case strings.HasPrefix(manifest, "att."):
		a.Tag = "sha256-" + subject.Hex + ".att"
	default:
		a.ArtifactType = sigverify.BundleMediaType
	}
	return a
}

// ecKey is a P-256 key pair; its public key is written to dir/name.
type ecKey struct {
	priv *ecdsa.PrivateKey
	name string
}

func newECKey(t *testing.T, dir, name string) ecKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	return ecKey{priv: priv, name: name}
}

func (k ecKey) sign(t *testing.T, msg []byte) string {
	t.Helper()
	sum := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, sum[:])
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(sig)
}

// sigLayer is a legacy .sig layer: payload signed by k.
func (k ecKey) sigLayer(t *testing.T, payload []byte) layer {
	return layer{mediaType: sigverify.SimpleSigningMediaType, blob: payload,
		annotations: map[string]string{sigverify.AnnotationSignature: k.sign(t, payload)}}
}

// bundleLayer is a sigstore bundle layer: an in-toto statement of
// predicateType about digest, DSSE-signed by k.
func (k ecKey) bundleLayer(t *testing.T, digest v1.Hash, predicateType string) layer {
	t.Helper()
	st := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q,"predicate":{"n":1}}`, digest.Hex, predicateType)
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(sigverify.InTotoPayloadType), sigverify.InTotoPayloadType, len(st), st)
	b, err := json.Marshal(map[string]any{
		"mediaType":            sigverify.BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": "k"}},
		"dsseEnvelope": map[string]any{"payload": base64.StdEncoding.EncodeToString(st), "payloadType": sigverify.InTotoPayloadType,
			"signatures": []map[string]string{{"sig": k.sign(t, pae)}}},
	})
	require.NoError(t, err)
	return layer{mediaType: sigverify.BundleMediaType, blob: b}
}

func simpleSigning(digest v1.Hash) []byte {
	return fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, digest)
}
