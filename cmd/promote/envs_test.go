package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promote-dev/promote/internal/ecremu"
)

// newECRCLI writes a dev → test pipeline on the ECR emulator (and a qa
// environment outside ECR) and points the SDK at the emulator the AWS way.
func newECRCLI(t *testing.T) (*harness, *ecremu.Server) {
	srv := ecremu.Start(t, ecremu.Options{Region: "eu-central-1"})
	dir := t.TempDir()
	srv.SetEnv(t)
	cfg := filepath.Join(dir, "environments.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
ledger: ledger.db
environments:
  - name: dev
    repository: %[1]s/dev/{app}
    tags: mutable
    aws: {registryId: "%[2]s"}
  - name: test
    from: dev
    repository: %[1]s/test/{app}
    tags: immutable
    aws: {registryId: "%[2]s"}
  - name: qa
    from: dev
    repository: registry.example.com/qa/{app}
    tags: immutable
`, srv.RegistryHost(ecremu.DefaultAccount), ecremu.DefaultAccount)), 0o600))
	return &harness{t: t, config: cfg}, srv
}

func TestCLIEnvsCheckAndApply(t *testing.T) {
	c, srv := newECRCLI(t)

	code, out, _ := c.run("envs", "check")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out, "no apps: none named and the ledger has no records")

	code, out, errOut := c.run("envs", "check", "web")
	assert.Equal(t, ExitConflict, code, "missing repositories are error findings")
	assert.Contains(t, out, "ENV   APP  REPOSITORY")
	assert.Contains(t, out, "MUTABILITY  SCAN  FINDINGS")
	assert.Contains(t, out, "error    test web: the repository does not exist; promote envs apply creates it")
	assert.Contains(t, out, "skipped  qa: not in ECR")
	assert.Contains(t, errOut, "2 error finding(s)")
	assert.Empty(t, srv.Default().Repositories(), "check writes nothing")

	code, out, _ = c.run("envs", "apply", "web")
	require.Equal(t, ExitOK, code, out)
	assert.Contains(t, out, "ACTION")
	assert.Contains(t, out, "IMMUTABLE_WITH_EXCLUSION(sha256-*)  on    ok        created")

	code, doc, res := c.runJSON("envs", "check", "web")
	require.Equal(t, ExitOK, code, doc.Error)
	assert.Equal(t, "envs check", doc.Command)
	assert.Equal(t, float64(0), res["errors"])
	assert.Equal(t, "arguments", res["appsFrom"])
	rows := res["repositories"].([]any)
	require.Len(t, rows, 2)
	test := rows[1].(map[string]any)
	assert.Equal(t, "test", test["env"])
	assert.Equal(t, "IMMUTABLE_WITH_EXCLUSION", test["tagMutability"])
	assert.Equal(t, []any{"sha256-*"}, test["exclusionFilters"])
	assert.Equal(t, true, test["scanOnPush"])
	assert.Equal(t, "AES256", test["encryption"])
	assert.Equal(t, []any{}, test["findings"])
	assert.Equal(t, "qa", res["skipped"].([]any)[0].(map[string]any)["env"])

	// An immutable environment whose repository is MUTABLE: exit 4 until fixed.
	require.NoError(t, srv.Default().CreateRepository("test/api", ecremu.RepositoryConfig{ScanOnPush: true}))
	code, out, _ = c.run("envs", "check", "api", "web")
	assert.Equal(t, ExitConflict, code)
	assert.Contains(t, out, "test  api")
	assert.Contains(t, out, "error    test api: the environment is immutable but the repository is MUTABLE")

	code, doc, res = c.runJSON("envs", "apply", "api")
	assert.Equal(t, ExitConflict, code, "apply changes an existing repository only when asked")
	assert.Contains(t, doc.Error, "1 error finding(s)")
	assert.Equal(t, "unchanged", res["repositories"].([]any)[1].(map[string]any)["action"])

	code, out, _ = c.run("envs", "apply", "api", "--fix-mutability")
	require.Equal(t, ExitOK, code, out)
	assert.Contains(t, out, "changed")
	tags, err := srv.Default().Tags("test/api")
	require.NoError(t, err)
	assert.Empty(t, tags)
	code, _, _ = c.run("envs", "check", "api")
	assert.Equal(t, ExitOK, code)

	code, out, _ = c.run("envs", "apply", "--no-exclude-attachments", "plain")
	require.Equal(t, ExitOK, code, "warnings only")
	assert.Contains(t, out, "test  plain  ")
	assert.Contains(t, out, "warning  test plain: no exclusion filter covers sha256-*")

	code, _, errOut = c.run("envs", "apply", "web", "--bogus")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "bogus")
	code, _, errOut = c.run("envs", "check", "Web:1")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `app name "Web:1" is invalid`)
}
