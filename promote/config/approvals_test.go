package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/errs"
)

// approvalsConfig is a dev → prod pipeline in dir whose prod carries the
// given approvals block (YAML, indented under prod).
func approvalsConfig(t *testing.T, block string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	require.NoError(t, os.MkdirAll(keys, 0o755))
	for _, k := range []string{"cosign.pub", "other.pub"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "signed", "keys", k))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(keys, k), b, 0o644))
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "signed", "trusted_root.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted_root.json"), b, 0o644))
	return filepath.Join(dir, "environments.yaml"), lines("version: 1", "environments:",
		"  - name: dev", "    repository: 'localhost:5000/dev/{app}'", "    tags: mutable",
		"  - name: prod", "    from: dev", "    repository: 'localhost:5000/prod/{app}'", "    tags: immutable",
		"    approvals:", block)
}

func TestApprovalsConfig(t *testing.T) {
	path, cfg := approvalsConfig(t, "      {required: 2, keys: [keys/cosign.pub, keys/other.pub], expires: 3d}")
	c, err := Parse(path, cfg)
	require.NoError(t, err)
	prod, err := c.Env("prod")
	require.NoError(t, err)
	a := prod.Approvals
	require.NotNil(t, a)
	assert.Equal(t, 2, a.Required)
	assert.Equal(t, []string{"keys/cosign.pub", "keys/other.pub"}, a.Signers.Keys, "as written")
	assert.Equal(t, 72*time.Hour, a.Expires)
	assert.Equal(t, 11, a.Line)
	require.NotNil(t, a.Verifier)
	require.Len(t, a.Verifier.Keys(), 2, "resolved against the config file's directory and read")
	dev, _ := c.Env("dev")
	assert.Nil(t, dev.Approvals)

	path, cfg = approvalsConfig(t, strings.Join([]string{
		"      required: 2",
		"      keys: [keys/cosign.pub]",
		"      identities:",
		"        - {issuer: https://token.actions.githubusercontent.com, subject: '^https://github.com/acme/.+$'}",
		"      trustedRoot: trusted_root.json"}, "\n"))
	c, err = Parse(path, cfg)
	require.NoError(t, err, "a key and an identity: two approvers")
	prod, _ = c.Env("prod")
	assert.Equal(t, 2, prod.Approvals.Required)
	assert.Zero(t, prod.Approvals.Expires, "no expiry")
	require.Len(t, prod.Approvals.Signers.Identities, 1)
}

func TestApprovalsConfigErrors(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"      {keys: [keys/cosign.pub]}", "environments.yaml:11: environments[1].approvals.required: missing; expected how many"},
		{"      {required: 0, keys: [keys/cosign.pub]}", "approvals.required: 0; expected 1 or more"},
		{"      {required: two, keys: [keys/cosign.pub]}", "approvals.required: expected an integer"},
		{"      {required: 1}", "approvals: no keys and no identities: nobody could approve"},
		{"      {required: 3, keys: [keys/cosign.pub, keys/other.pub]}", "approvals.required: 3, but at most 2 approvals can ever count (2 distinct keys, 0 identities"},
		{"      {required: 2, keys: [keys/cosign.pub, keys/cosign.pub]}", "at most 1 approvals can ever count (1 distinct key, 0 identities"},
		{"      {required: 3, keys: [keys/cosign.pub], identities: [{issuer: i, subject: '.+'}], trustedRoot: trusted_root.json}",
			"at most 2 approvals can ever count (1 distinct key, 1 identity, each counted once)"},
		{"      {required: 1, keys: [keys/missing.pub]}", "approvals.keys[0]: reading public key keys/missing.pub: no such file or directory"},
		{"      {required: 1, keys: [keys/cosign.pub, '']}", "approvals.keys[1]: empty"},
		{"      {required: 1, keys: keys/cosign.pub}", "approvals.keys: expected a list of strings"},
		{"      {required: 1, identities: [{issuer: https://accounts.google.com, subject: a@b.example}]}", "approvals.trustedRoot: required with identities"},
		{"      {required: 1, identities: [{subject: a@b.example}], trustedRoot: trusted_root.json}", "approvals.identities[0].issuer: missing"},
		{"      {required: 1, identities: [{issuer: i, subject: '(x'}], trustedRoot: trusted_root.json}", `approvals.identities[0]: subject "(x" is not a regular expression`},
		{"      {required: 1, keys: [keys/cosign.pub], expires: soon}", `approvals.expires: duration "soon"`},
		{"      {required: 1, keys: [keys/cosign.pub], expires: -1h}", "must be positive"},
		{"      {required: 1, keys: [keys/cosign.pub], quorum: 2}", `approvals.quorum: unknown field "quorum"; expected one of: required, keys, identities, trustedRoot, expires`},
		{"      [keys/cosign.pub]", "approvals: expected a mapping such as {required: 2"},
		{"      {required: 1, keys: [keys/cosign.pub]}\n    breakGlass: {approvals: 2}",
			"breakGlass.approvals: 2, but only 1 approvers are listed in approvals, each counted once: it could never be met"},
	} {
		path, cfg := approvalsConfig(t, tc.block)
		_, err := Parse(path, cfg)
		require.ErrorIs(t, err, errs.ErrConfig, tc.block)
		assert.Contains(t, err.Error(), tc.want, tc.block)
	}

	// An environment nothing is promoted into needs no approvals.
	path, _ := approvalsConfig(t, "")
	bad := lines("version: 1", "environments:", "  - name: dev", "    repository: 'localhost:5000/dev/{app}'", "    tags: mutable",
		"    approvals: {required: 1, keys: [keys/cosign.pub]}")
	_, err := Parse(path, bad)
	require.ErrorIs(t, err, errs.ErrConfig)
	assert.Contains(t, err.Error(), "environments[0].approvals: environment dev has no from")
}
