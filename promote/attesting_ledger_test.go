package promote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	"github.com/promote-dev/promote/promote/registry"
	"github.com/promote-dev/promote/sigverify"
)

// testAttestKey is the test environment's attestation key (cosign's format).
func testAttestKey(t *testing.T) *config.Attest {
	t.Setenv("PROMOTE_TEST_KEY_PASSWORD", "promote-test")
	return &config.Attest{Key: filepath.Join("..", "testdata", "attest", "cosign.key"), PasswordEnv: "PROMOTE_TEST_KEY_PASSWORD"}
}

// attestedLedger is the ledger object of a promotion attestation, read as
// any JSON reader would.
type attestedLedger struct {
	Origin     string   `json:"origin"`
	TreeSize   int64    `json:"treeSize"`
	LeafIndex  int64    `json:"leafIndex"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint"`
}

// attestedPredicate is what the test reads of the predicate.
type attestedPredicate struct {
	Record struct {
		ID   string `json:"id"`
		Hash string `json:"hash"`
	} `json:"record"`
	Ledger   *attestedLedger `json:"ledger"`
	Policies []struct {
		Name    string `json:"name"`
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	} `json:"policies"`
	BreakGlass string          `json:"breakGlass"`
	Evidence   json.RawMessage `json:"evidence"`
}

// readAttestation fetches the promotion attestation of d in repo from the
// registry (go-containerregistry alone), checks its signature with the
// test key's public half and returns its predicate.
func readAttestation(t *testing.T, repo string, d v1.Hash, recordHash string) attestedPredicate {
	t.Helper()
	ctx := context.Background()
	r, err := name.NewRepository(repo)
	require.NoError(t, err)
	reg, err := registry.New(registry.Options{Insecure: []string{"127.0.0.1"}})
	require.NoError(t, err)
	found, err := attest.Attached(ctx, reg, r, d, recordHash)
	require.NoError(t, err)
	require.Len(t, found, 1, "one attestation of the record")
	img, err := remote.Image(r.Digest(found[0].Digest.String()))
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Compressed()
	require.NoError(t, err)
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)

	pub, err := os.ReadFile(filepath.Join("..", "testdata", "attest", "cosign.pub"))
	require.NoError(t, err)
	key, err := sigverify.ParseKey("cosign.pub", pub)
	require.NoError(t, err)
	v, err := sigverify.New(sigverify.WithKeys(key))
	require.NoError(t, err)
	res, err := v.VerifyAttestationBundle(raw, d)
	require.NoError(t, err)
	var p attestedPredicate
	require.NoError(t, json.Unmarshal(res.Statement.Predicate, &p))
	return p
}

// checkLedgerProof checks an attestation's ledger object with note and tlog
// alone: the checkpoint's signature with vkey, then that body is leaf
// LeafIndex of the tree it signs. It returns the checkpoint's size.
func checkLedgerProof(l *attestedLedger, vkey string, body []byte) (int64, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return 0, err
	}
	n, err := note.Open([]byte(l.Checkpoint), note.VerifierList(v))
	if err != nil {
		return 0, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != l.Origin || lines[1] != strconv.FormatInt(l.TreeSize, 10) {
		return 0, errors.New("the checkpoint is not the proof's: " + n.Text)
	}
	var root tlog.Hash
	if b, err := base64.StdEncoding.DecodeString(lines[2]); err != nil || copy(root[:], b) != len(root) {
		return 0, errors.New("bad root")
	}
	var proof tlog.RecordProof
	for _, s := range l.Proof {
		var h tlog.Hash
		if b, err := base64.StdEncoding.DecodeString(s); err != nil || copy(h[:], b) != len(h) {
			return 0, errors.New("bad proof hash")
		}
		proof = append(proof, h)
	}
	return l.TreeSize, tlog.CheckRecord(proof, l.TreeSize, root, l.LeafIndex, tlog.RecordHash(body))
}

// With a keyed ledger every promotion attestation carries the checkpoint
// signed after its record and the record's inclusion proof, which check
// with the ledger's verifier key and the record's stored body alone.
func TestAttestationCarriesTheLedgerCheckpointAndProof(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	key := testAttestKey(t)
	e := kw.open()
	env, err := e.Config().Env("test")
	require.NoError(t, err)
	env.Attest = key

	var recs []*ledger.Record
	var digests []v1.Hash
	for _, v := range []string{"1.0", "2.0"} {
		d := kw.push("web", v, v)
		res, err := kw.promote(e, "test", "web:"+v)
		require.NoError(t, err)
		require.NotEmpty(t, res.Attestation)
		recs, digests = append(recs, res.Record), append(digests, d)
	}
	_, otherKey, err := note.GenerateKey(rand.Reader, keyOrigin)
	require.NoError(t, err)
	for i, rec := range recs {
		p := readAttestation(t, kw.test("web"), digests[i], rec.Hash)
		require.NotNil(t, p.Ledger, "the attestation carries the ledger object")
		assert.Equal(t, rec.ID, p.Record.ID)
		assert.Equal(t, keyOrigin, p.Ledger.Origin)
		assert.Equal(t, int64(i), p.Ledger.LeafIndex)
		assert.Equal(t, int64(i+1), p.Ledger.TreeSize, "the checkpoint signed after its record")

		body := kw.storedBody(rec.ID)
		sum := sha256.Sum256(body)
		require.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), p.Record.Hash, "the body is the record the attestation names")
		size, err := checkLedgerProof(p.Ledger, kw.vkey, body)
		require.NoError(t, err, "the proof checks with note and tlog alone")
		assert.Equal(t, int64(i+1), size)

		other := kw.storedBody(recs[1-i].ID)
		_, err = checkLedgerProof(p.Ledger, kw.vkey, other)
		assert.Error(t, err, "another record's body is not that leaf")
		_, err = checkLedgerProof(p.Ledger, otherKey, body)
		assert.Error(t, err, "a checkpoint the ledger's key did not sign does not verify")
	}
}

// A re-run that attaches a missing attestation proves the record in the
// newest checkpoint, which may be later than the record's own.
func TestReattestedRecordIsProvenInTheNewestCheckpoint(t *testing.T) {
	kw := newKeyedWorld(t, nil)
	key := testAttestKey(t)
	e := kw.open()
	env, err := e.Config().Env("test")
	require.NoError(t, err)

	d := kw.push("web", "1.0", "1.0")
	first, err := kw.promote(e, "test", "web:1.0") // no attestation key yet
	require.NoError(t, err)
	require.Empty(t, first.Attestation)
	kw.push("api", "1.0", "1.0")
	_, err = kw.promote(e, "test", "api:1.0")
	require.NoError(t, err)

	env.Attest = key
	again, err := kw.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	require.True(t, again.NothingToDo)
	require.NotEmpty(t, again.Attestation)
	p := readAttestation(t, kw.test("web"), d, first.Record.Hash)
	require.NotNil(t, p.Ledger)
	assert.Equal(t, int64(0), p.Ledger.LeafIndex)
	assert.Equal(t, int64(2), p.Ledger.TreeSize, "proven in the checkpoint after the api record")
	_, err = checkLedgerProof(p.Ledger, kw.vkey, kw.storedBody(first.Record.ID))
	assert.NoError(t, err)
}

// A ledger without a key signs no checkpoint: the attestation is made as
// before, with no ledger object, and a debug log says why.
func TestAttestationOfAKeylessLedgerHasNoLedgerObject(t *testing.T) {
	var logs bytes.Buffer
	w := newWorld(t, withEngineOptions(WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))))
	w.env("test").Attest = testAttestKey(t)
	d := w.push("web", "1.0", "1.0")
	res, err := w.promote(w.engine(), "test", "web:1.0")
	require.NoError(t, err)
	require.NotEmpty(t, res.Attestation)
	p := readAttestation(t, w.test("web"), d, res.Record.Hash)
	assert.Nil(t, p.Ledger)
	assert.Contains(t, logs.String(), "carries no ledger proof: the ledger signs no checkpoint (it has no key)")
}

// failingCheckpoint is a ledger whose checkpoint cannot be read.
type failingCheckpoint struct{ ledger.Ledger }

func (failingCheckpoint) Checkpoint(context.Context) ([]byte, error) {
	return nil, errors.New("reading the checkpoint: disk I/O error")
}

// A proof that cannot be made for any reason but a keyless ledger fails
// the attest phase as an attachment failure does: the promotion stands,
// the error says so and says to run the command again, which attaches it.
func TestAttestationIsNotMadeWithoutAProofItShouldCarry(t *testing.T) {
	w := newWorld(t)
	w.env("test").Attest = testAttestKey(t)
	d := w.push("web", "1.0", "1.0")
	res, err := w.promote(w.engineOn(func(l ledger.Ledger) ledger.Ledger { return failingCheckpoint{l} }), "test", "web:1.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is recorded, but its attestation could not be made")
	assert.Contains(t, err.Error(), "disk I/O error")
	assert.Contains(t, err.Error(), "run the same command again")
	require.NotNil(t, res)
	require.NotNil(t, res.Record, "the promotion stands")
	assert.Empty(t, res.Attestation)
	found, err := attest.Attached(context.Background(), w.client(), mustRepo(t, w.test("web")), d, "")
	require.NoError(t, err)
	assert.Empty(t, found, "nothing attached")

	again, err := w.promote(w.engine(), "test", "web:1.0")
	require.NoError(t, err)
	assert.True(t, again.NothingToDo)
	assert.NotEmpty(t, again.Attestation, "the re-run attaches it")
}

func mustRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	require.NoError(t, err)
	return r
}
