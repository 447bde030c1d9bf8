package sigverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"
)

// fixtures is testdata/signed at the module root: keys and signatures
// made by the real cosign CLI (see its README.md).
var fixtures = filepath.Join("..", "testdata", "signed")

func readFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{fixtures}, parts...)...))
	require.NoError(t, err)
	return b
}

func fixtureKey(t *testing.T, name string) *Key {
	t.Helper()
	k, err := ParseKey("keys/"+name, readFixture(t, "keys", name))
	require.NoError(t, err)
	return k
}

func fixtureDigest(t *testing.T, version string) v1.Hash {
	t.Helper()
	return mustHash(t, strings.TrimSpace(string(readFixture(t, version, "subject.txt"))))
}

// fixtureSigLayer returns the first layer of a fixture .sig manifest with
// its payload.
func fixtureSigLayer(t *testing.T, version string) Layer {
	t.Helper()
	m, err := v1.ParseManifest(strings.NewReader(string(readFixture(t, version, "sig.manifest.json"))))
	require.NoError(t, err)
	require.Len(t, m.Layers, 1)
	return Layer{Blob: readFixture(t, version, "sig.payload.json"), Annotations: m.Layers[0].Annotations}
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	require.NoError(t, err)
	return h
}

func digestOf(s string) v1.Hash {
	sum := sha256.Sum256([]byte(s))
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
}

func mustVerifier(t *testing.T, opts ...Option) *Verifier {
	t.Helper()
	v, err := New(opts...)
	require.NoError(t, err)
	return v
}

// testKey is a private key made for a test and its trusted public Key.
type testKey struct {
	priv crypto.Signer
	hash crypto.Hash // 0 for pure Ed25519
	pub  *Key
}

func newTestKey(t *testing.T, name, kind string) testKey {
	t.Helper()
	var (
		priv crypto.Signer
		hash = crypto.SHA256
		err  error
	)
	switch kind {
	case "p256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		hash = crypto.SHA384
	case "p384-sha256": // as cosign clients before v2.2 signed
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		hash = 0
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	require.NoError(t, err)
	pub, err := NewKey(name, priv.Public())
	require.NoError(t, err)
	return testKey{priv: priv, hash: hash, pub: pub}
}

// sign signs msg as cosign does with this kind of key.
func (k testKey) sign(t *testing.T, msg []byte) []byte {
	t.Helper()
	if k.hash == 0 {
		sig, err := k.priv.Sign(rand.Reader, msg, crypto.Hash(0))
		require.NoError(t, err)
		return sig
	}
	var d []byte
	switch k.hash {
	case crypto.SHA256:
		s := sha256.Sum256(msg)
		d = s[:]
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		d = s[:]
	}
	sig, err := k.priv.Sign(rand.Reader, d, k.hash)
	require.NoError(t, err)
	return sig
}

// simpleSigningPayload is a cosign simple-signing payload for digest.
func simpleSigningPayload(digest, typ string) []byte {
	return []byte(fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":%q},"type":%q},"optional":null}`, digest, typ))
}

// legacyLayer signs payload with k into a .sig layer.
func legacyLayer(t *testing.T, k testKey, payload []byte) Layer {
	t.Helper()
	return Layer{Blob: payload, Annotations: map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(k.sign(t, payload))}}
}

// pae is DSSE's pre-authentication encoding.
func pae(payloadType string, payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload))
}

// statementJSON is an in-toto statement of predicateType about digest.
func statementJSON(digest v1.Hash, predicateType, predicate string) []byte {
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"registry.example/app","digest":{%q:%q}}],"predicateType":%q,"predicate":%s}`,
		digest.Algorithm, digest.Hex, predicateType, predicate))
}

// keyBundle signs statement with k into a sigstore bundle (v0.3, DSSE,
// public key hint), as cosign v3 writes one.
func keyBundle(t *testing.T, k testKey, statement []byte) []byte {
	t.Helper()
	sig := k.sign(t, pae(InTotoPayloadType, statement))
	b, err := json.Marshal(map[string]any{
		"mediaType":            BundleMediaType,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": k.pub.ID}},
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(statement),
			"payloadType": InTotoPayloadType,
			"signatures":  []map[string]string{{"sig": base64.StdEncoding.EncodeToString(sig)}},
		},
	})
	require.NoError(t, err)
	return b
}

// dsseEnvelope signs statement with k into a legacy .att layer blob.
func dsseEnvelope(t *testing.T, k testKey, payloadType string, statement []byte) []byte {
	t.Helper()
	sig := k.sign(t, pae(payloadType, statement))
	b, err := json.Marshal(map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(statement),
		"signatures":  []map[string]string{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(sig)}},
	})
	require.NoError(t, err)
	return b
}
