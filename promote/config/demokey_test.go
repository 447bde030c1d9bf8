package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const demoDir = "../../testdata/demo"

// demoConfig is a pipeline whose prod environment, at host, trusts
// signedKey in its signed gate; the file sits in dir.
func demoConfig(host, signedKey string) []byte {
	return []byte(strings.Join([]string{
		"version: 1",
		"environments:",
		"  - name: dev",
		"    repository: 127.0.0.1:5001/dev/{app}",
		"    tags: mutable",
		"  - name: prod",
		"    from: dev",
		"    repository: \"" + host + "/prod/{app}\"",
		"    tags: immutable",
		"    gates:",
		"      - nonroot: {}",
		"      - signed: {keys: [" + signedKey + "]}",
		"",
	}, "\n"))
}

// copyFile copies src into dir/name and returns the new path.
func copyFile(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	require.NoError(t, os.WriteFile(dst, data, 0o644))
	return dst
}

func TestDemoKeyRefusedForANonLoopbackRegistry(t *testing.T) {
	file := "../../environments.yaml" // keys resolve as they do for make demo
	for _, host := range []string{"registry.example.com", "10.0.0.5:5000", "222222222222.dkr.ecr.eu-central-1.amazonaws.com", "[fd00::1]:5000", "docker.io/acme"} {
		_, err := Parse(file, demoConfig(host, "testdata/demo/demo.pub"))
		requireConfigError(t, err, file, 12, "environments[1].gates[1].signed.keys[0]", "testdata/demo/demo.pub")
		for _, want := range []string{"environment prod", "not a loopback", "cosign generate-key-pair"} {
			assert.Contains(t, err.Error(), want, host)
		}
	}
}

func TestDemoKeyCopyRefusedByContent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "environments.yaml")
	copyFile(t, filepath.Join(demoDir, "demo.pub"), dir, "keys/release.pub")
	_, err := Parse(file, demoConfig("registry.example.com", "keys/release.pub"))
	requireConfigError(t, err, file, 12, "environments[1].gates[1].signed.keys[0]", "keys/release.pub")
	assert.Contains(t, err.Error(), "a copy of the demo key")

	// The same key re-wrapped (CRLF line ends, a comment before the block) is the same key.
	data, err := os.ReadFile(filepath.Join(demoDir, "demo.pub"))
	require.NoError(t, err)
	rewrapped := "issued for release\r\n" + strings.ReplaceAll(string(data), "\n", "\r\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys/release.pub"), []byte(rewrapped), 0o644))
	_, err = Parse(file, demoConfig("registry.example.com", "keys/release.pub"))
	requireConfigError(t, err, file, 12, "environments[1].gates[1].signed.keys[0]", "a copy of the demo key")
}

func TestDemoPrivateKeyRefusedForAttest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "environments.yaml")
	copyFile(t, filepath.Join(demoDir, "demo.key"), dir, "keys/promote.key")
	own, err := filepath.Abs("../../testdata/attest/cosign.pub")
	require.NoError(t, err)
	data := append(demoConfig("registry.example.com", own), []byte("    attest: {key: keys/promote.key}\n")...)
	_, err = Parse(file, data)
	requireConfigError(t, err, file, 13, "environments[1].attest.key", "a copy of the demo key")
	assert.Contains(t, err.Error(), "cosign generate-key-pair")
}

func TestDemoKeyAllowedOnLoopback(t *testing.T) {
	file := "../../environments.yaml"
	for _, host := range []string{"127.0.0.1:5002", "127.1.2.3", "localhost:5000", "localhost", "[::1]:5000"} {
		c, err := Parse(file, demoConfig(host, "testdata/demo/demo.pub"))
		require.NoError(t, err, host)
		assert.Len(t, c.Environments, 2)
	}
}

func TestOwnKeyAllowedAnywhere(t *testing.T) {
	file := "../../environments.yaml"
	_, err := Parse(file, demoConfig("registry.example.com", "testdata/attest/cosign.pub"))
	require.NoError(t, err)
}

// The example pipelines load as they are (make demo runs them against local
// registries), and pointing the default one at a real registry is refused:
// it trusts the demo key for prod.
func TestExamplePipelinesAndTheDemoKey(t *testing.T) {
	for _, v := range []string{"DEMO_REGISTRY_A", "DEMO_REGISTRY_B", "ECR_A", "ECR_B"} {
		t.Setenv(v, "")
	}
	for _, f := range []string{"../../environments.yaml", "../../environments.ecr.yaml"} {
		_, err := Load(f)
		require.NoError(t, err, f)
	}
	t.Setenv("DEMO_REGISTRY_B", "registry.example.com")
	_, err := Load("../../environments.yaml")
	requireConfigError(t, err, "../../environments.yaml", 39, "environments[2].gates[2].signed.keys[0]", "testdata/demo/demo.pub")
	t.Setenv("ECR_B", "222222222222.dkr.ecr.eu-central-1.amazonaws.com")
	_, err = Load("../../environments.ecr.yaml")
	requireConfigError(t, err, "../../environments.ecr.yaml", 33, "environments[2].gates[0].signed.keys[0]", "testdata/demo/demo.pub")
}

// The fingerprint the content check compares with is the committed demo
// key's: regenerating testdata/demo without updating it fails here.
func TestDemoKeyFingerprintMatchesTestdata(t *testing.T) {
	for _, f := range []string{"demo.pub", "demo.key"} {
		data, err := os.ReadFile(filepath.Join(demoDir, f))
		require.NoError(t, err)
		assert.True(t, isDemoKey(data), "%s: update demoKeyFingerprint", f)
	}
	other, err := os.ReadFile("../../testdata/attest/cosign.pub")
	require.NoError(t, err)
	assert.False(t, isDemoKey(other))
}
