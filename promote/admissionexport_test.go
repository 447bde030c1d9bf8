package promote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/promote/admission"
	"github.com/promote-dev/promote/promote/config"
)

// revokedDigests are the digests an export denies, by app.
func revokedDigests(exp *AdmissionExport) map[string]string {
	out := map[string]string{}
	for _, r := range exp.Input.Revoked {
		out[r.Digest] = r.App
	}
	return out
}

// The export denies every digest revoked for any app, with the content its
// revocation covers, and not one unrevoked since; it names the config by
// its SHA-256 and defaults to the last environment.
func TestExportAdmissionGathersRevocationsOfEveryApp(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("environments.yaml", []byte(w.yaml()), 0o600))
	e := w.engine()
	web1, web2, api1 := w.push("web", "1.0", "1.0"), w.push("web", "2.0", "2.0"), w.push("api", "1.0", "1.0")
	for _, ref := range []string{"web:1.0", "web:2.0", "api:1.0"} {
		_, err := w.promote(e, "test", ref)
		require.NoError(t, err)
	}
	_, err := e.Reader().ExportAdmission(ctx, AdmissionRequest{Controller: admission.Gatekeeper})
	require.ErrorIs(t, err, errs.ErrUsage, "prod holds no app yet: nothing to admit")
	_, err = w.promote(e, "prod", "web@"+web1.String())
	require.NoError(t, err)
	for _, r := range []Ref{{App: "web", Digest: web1.String()}, {App: "web", Digest: web2.String()}, {App: "api", Digest: api1.String()}} {
		_, err := e.Revoke(ctx, ControlRequest{Ref: r, Reason: "CVE"})
		require.NoError(t, err)
	}
	_, err = e.Unrevoke(ctx, ControlRequest{Ref: Ref{App: "web", Digest: web2.String()}, Reason: "false positive"})
	require.NoError(t, err)

	exp, err := e.Reader().ExportAdmission(ctx, AdmissionRequest{Controller: admission.Gatekeeper})
	require.NoError(t, err)
	assert.Equal(t, "prod", exp.Env)
	got := revokedDigests(exp)
	assert.Equal(t, "web", got[web1.String()])
	assert.Equal(t, "api", got[api1.String()])
	assert.NotContains(t, got, web2.String(), "unrevoked")
	assert.Len(t, got, 4, "each revoked image and its config")
	assert.Equal(t, "environments.yaml", exp.Input.Source.Config)
	assert.Len(t, exp.Input.Source.ConfigSHA256, 64)
	assert.Contains(t, exp.Input.Source.Head, " sha256:", "a keyless ledger is named by its newest record")
	assert.ElementsMatch(t, []string{"latest"}, exp.Input.MovingTags)
	assert.Equal(t, []string{w.prod("web")}, exp.Input.Repositories, "the repositories of the apps prod holds, not api's")
	again, err := e.Reader().ExportAdmission(ctx, AdmissionRequest{Controller: admission.Gatekeeper})
	require.NoError(t, err)
	assert.Equal(t, exp.Files, again.Files, "the same config and ledger give the same bytes")
}

// The attestation exports need the environment's attestation key: derived
// from its attest key, or given; without either they are refused.
func TestExportAdmissionAttestationKey(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	root, err := filepath.Abs(filepath.Join("..", "testdata", "attest"))
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("environments.yaml", []byte(w.yaml()), 0o600))
	e := w.engine()
	w.push("web", "1.0", "1.0")
	for _, env := range []string{"test", "prod"} {
		_, err := w.promote(e, env, "web:1.0")
		require.NoError(t, err)
	}
	r := e.Reader()

	_, err = r.ExportAdmission(ctx, AdmissionRequest{Controller: admission.Kyverno})
	assert.ErrorIs(t, err, errs.ErrConfig)
	assert.ErrorContains(t, err, "environment prod in environments.yaml has no attest key")
	_, err = r.ExportAdmission(ctx, AdmissionRequest{Controller: admission.Gatekeeper, AttestPub: "x.pub"})
	assert.ErrorIs(t, err, errs.ErrUsage)
	_, err = r.ExportAdmission(ctx, AdmissionRequest{Controller: "opa"})
	assert.ErrorIs(t, err, errs.ErrUsage)
	_, err = r.ExportAdmission(ctx, AdmissionRequest{Controller: admission.Kyverno, AttestPub: filepath.Join(root, "ed25519.key")})
	assert.ErrorIs(t, err, errs.ErrUsage)

	pub, err := os.ReadFile(filepath.Join(root, "cosign-empty.pub"))
	require.NoError(t, err)
	given, err := r.ExportAdmission(ctx, AdmissionRequest{Controller: admission.PolicyController, AttestPub: filepath.Join(root, "cosign-empty.pub")})
	require.NoError(t, err)
	w.env("prod").Attest = &config.Attest{Key: filepath.Join(root, "cosign-empty.key"), PasswordEnv: "EXPORT_TEST_PASSWORD"}
	t.Setenv("EXPORT_TEST_PASSWORD", "")
	derived, err := r.ExportAdmission(ctx, AdmissionRequest{Controller: admission.PolicyController})
	require.NoError(t, err)
	assert.Equal(t, given.Files, derived.Files, "the key derived from the private key is the one given")
	assert.Contains(t, string(derived.Files[0].Data), strings.Split(strings.TrimSpace(string(pub)), "\n")[1])
}
