// Package scripts holds the tests of the repository's shell scripts.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mib = 1 << 20

// gitRepo makes a git repository in a temporary directory holding files
// (path -> size in bytes), all added to the index.
func gitRepo(t *testing.T, files map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	for name, size := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte{'x'}, size), 0o644))
	}
	git(t, dir, "add", ".")
	return dir
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

// checkLargeFiles runs scripts/check-large-files.sh on dir.
func checkLargeFiles(t *testing.T, dir string) (exit int, out string) {
	t.Helper()
	script, err := filepath.Abs("check-large-files.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, dir)
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(b)
	}
	require.NoError(t, err, "%s", b)
	return 0, string(b)
}

func TestCheckLargeFilesRefusesATrackedFileOver1MiB(t *testing.T) {
	dir := gitRepo(t, map[string]int{"main.go": 100, "sgprobe": mib + 1, "testdata/big.json": 2 * mib, "edge": mib})
	exit, out := checkLargeFiles(t, dir)
	assert.Equal(t, 1, exit, out)
	assert.Contains(t, out, "sgprobe")
	assert.Contains(t, out, "testdata/big.json")
	assert.NotContains(t, out, "edge", "exactly 1 MiB is not over 1 MiB")
	assert.NotContains(t, out, "main.go")
	assert.Contains(t, out, ".large-files-allowed", "says how to allow a file that must be committed")
	assert.Contains(t, out, "git rm --cached", "says how to remove a stray one")
}

func TestCheckLargeFilesHonoursTheAllowList(t *testing.T) {
	dir := gitRepo(t, map[string]int{"testdata/big.json": 2 * mib, "sgprobe": 3 * mib})
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".large-files-allowed"),
		[]byte("# real registry fixture, needed by the scan tests\ntestdata/big.json\n"), 0o644))
	exit, out := checkLargeFiles(t, dir)
	assert.Equal(t, 1, exit, out)
	assert.Contains(t, out, "sgprobe")
	assert.NotContains(t, out, "testdata/big.json is", "an allowed file is not reported")

	git(t, dir, "rm", "-q", "--cached", "sgprobe")
	exit, out = checkLargeFiles(t, dir)
	assert.Equal(t, 0, exit, "an untracked large file is not the check's business: %s", out)
}

func TestCheckLargeFilesPassesThisRepository(t *testing.T) {
	exit, out := checkLargeFiles(t, "..")
	assert.Equal(t, 0, exit, out)
}

// Outside a git work tree there is nothing to list: that is an error, not a pass.
func TestCheckLargeFilesFailsOutsideAGitRepository(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	exit, out := checkLargeFiles(t, dir)
	assert.Equal(t, 1, exit, out)
	assert.Contains(t, out, "not in a git work tree")
}
