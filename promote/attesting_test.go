package promote

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/regtest"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
)

// A promotion into an environment with an attestation key attaches a signed
// promotion attestation naming its ledger record; a re-run of a promotion
// whose attestation is missing attaches it, and one that has it adds none.
func TestPromotionAttestation(t *testing.T) {
	w := newWorld(t)
	test := w.env("test")
	t.Setenv("PROMOTE_TEST_KEY_PASSWORD", "promote-test")
	key := &config.Attest{Key: filepath.Join("..", "testdata", "attest", "cosign.key"), PasswordEnv: "PROMOTE_TEST_KEY_PASSWORD"}
	ctx := context.Background()
	e := w.engine()
	reg := w.client()
	repo, err := name.NewRepository(w.test("web"))
	require.NoError(t, err)

	d := w.push("web", "1.0", "1.0")
	test.Attest = key
	res, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	require.NotEmpty(t, res.Attestation)
	found, err := attest.Attached(ctx, reg, repo, d, res.Record.Hash)
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, res.Attestation, found[0].Digest.String(), "the attestation names this record's hash")

	again, err := w.promote(e, "test", "web:1.0")
	require.NoError(t, err)
	assert.True(t, again.NothingToDo)
	assert.Equal(t, res.Attestation, again.Attestation, "a re-run attaches nothing new")

	// A promotion whose attestation never got attached (no key then): the re-run attaches it.
	test.Attest = nil
	d2 := w.push("web", "2.0", "2.0")
	res2, err := w.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	assert.Empty(t, res2.Attestation)
	test.Attest = key
	w.a.Requests()
	dry, err := w.dryRun(e, "test", "web:2.0")
	require.NoError(t, err)
	assert.True(t, dry.NothingToDo)
	assert.Empty(t, dry.Attestation)
	assert.Empty(t, regtest.Writes(w.a.Requests()), "a dry run attaches nothing, even an attestation that is missing")
	rerun, err := w.promote(e, "test", "web:2.0")
	require.NoError(t, err)
	assert.True(t, rerun.NothingToDo)
	require.NotEmpty(t, rerun.Attestation)
	found, err = attest.Attached(ctx, reg, repo, d2, res2.Record.Hash)
	require.NoError(t, err)
	assert.Len(t, found, 1)
}

func TestAnAttestationKeyThatCannotSignFailsBeforeAnythingIsWritten(t *testing.T) {
	w := newWorld(t)
	test := w.env("test")
	t.Setenv("PROMOTE_TEST_KEY_PASSWORD", "not-the-password")
	test.Attest = &config.Attest{Key: filepath.Join("..", "testdata", "attest", "cosign.key"), PasswordEnv: "PROMOTE_TEST_KEY_PASSWORD"}
	w.push("web", "1.0", "1.0")
	w.a.Requests()
	_, err := w.promote(w.engine(), "test", "web:1.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attestation key")
	assert.Empty(t, regtest.Writes(w.a.Requests()), "nothing written")
	assert.Empty(t, w.tags(w.test("web")))
	assert.Empty(t, w.records(ledger.Query{App: "web", Env: "test"}), "no record")
}
