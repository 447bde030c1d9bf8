package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The CI recipes of docs/ci are checked here by parsing: each file's
// structure as its CI system reads it, then every promote command line in
// its scripts (and every call of promote-stage.sh, which runs `promote to`
// with the arguments it is given) against the real command definitions.
// The GitHub Actions workflow is also checked by actionlint, in the
// integration tests.

const ciDir = "../../docs/ci"

// stageScript is the recipes' shared stage: its arguments go to `promote to`.
const stageScript = "docs/ci/promote-stage.sh"

// recipeKinds maps each recipe file to the structure check of its CI system.
var recipeKinds = map[string]func(map[string]any) ([]string, error){
	"github-actions.yml": githubScripts,
	"gitlab-ci.yml":      gitlabScripts,
	"buildspec.yml":      buildspecScripts,
	// the daily patching job (docs/patching.md)
	"report-daily.yml":     githubScripts,
	"report-buildspec.yml": buildspecScripts,
}

// checkRecipe parses a recipe of the given kind and checks its structure and
// the command lines of its scripts.
func checkRecipe(kind string, data []byte) error {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	scripts, err := recipeKinds[kind](doc)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	calls, installs := 0, 0
	for _, s := range scripts {
		n, err := checkCommands(s)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		calls += n
		installs += pinnedInstalls(s)
	}
	switch {
	case calls == 0:
		return fmt.Errorf("%s: no script runs promote or %s", kind, stageScript)
	case installs == 0:
		return fmt.Errorf("%s: no script installs promote at a pinned version (go install github.com/promote-dev/promote/cmd/promote@VERSION)", kind)
	}
	return nil
}

// checkCommands checks every promote command line of a script, and every
// call of the stage script as the `promote to` it runs; it returns how many
// it checked.
func checkCommands(script string) (int, error) {
	app := newApp(&state{})
	n := 0
	for _, args := range promoteInvocations(script) {
		n++
		if err := checkPromoteArgs(app, args); err != nil {
			return n, err
		}
	}
	for _, words := range shellCommands(script) {
		if len(words) > 0 && strings.HasSuffix(words[0], stageScript) {
			n++
			if err := checkPromoteArgs(app, append([]string{"to"}, words[1:]...)); err != nil {
				return n, fmt.Errorf("%s: %w", stageScript, err)
			}
		}
	}
	return n, nil
}

// pinnedInstalls counts the `go install` commands of promote at a version
// other than latest.
func pinnedInstalls(script string) int {
	n := 0
	for _, w := range shellCommands(script) {
		i := slices.Index(w, "go")
		if i < 0 || i+2 >= len(w) || w[i+1] != "install" {
			continue
		}
		pkg, version, ok := strings.Cut(w[i+2], "@")
		if ok && pkg == "github.com/promote-dev/promote/cmd/promote" && version != "" && version != "latest" {
			n++
		}
	}
	return n
}

func TestCIRecipesCheckOut(t *testing.T) {
	for kind := range recipeKinds {
		t.Run(kind, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(ciDir, kind))
			require.NoError(t, err)
			assert.NoError(t, checkRecipe(kind, data))
		})
	}
	script, err := os.ReadFile(filepath.Join(ciDir, "promote-stage.sh"))
	require.NoError(t, err)
	n, err := checkCommands(string(script))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the stage script runs promote once")
	assert.Contains(t, promoteInvocations(string(script)), []string{"to", "$@", "--output", "json"})
}

// Each recipe broken on purpose fails the check, with a message that names
// what is wrong.
func TestCIRecipeCheckFailsOnBrokenRecipes(t *testing.T) {
	read := func(kind string) string {
		data, err := os.ReadFile(filepath.Join(ciDir, kind))
		require.NoError(t, err)
		return string(data)
	}
	edit := func(kind, old, repl string) string {
		s := read(kind)
		require.Contains(t, s, old, "%s no longer holds the text this case breaks", kind)
		return strings.Replace(s, old, repl, 1)
	}
	cases := []struct{ name, kind, recipe, want string }{
		{"misspelt flag", "gitlab-ci.yml",
			edit("gitlab-ci.yml", `"$APP@$DIGEST" --reason`, `"$APP@$DIGEST" --raeson`), "no flag --raeson"},
		{"unknown command", "buildspec.yml",
			edit("buildspec.yml", `promote current "$STAGE"`, `promote curent "$STAGE"`), `no command "curent"`},
		{"missing argument", "github-actions.yml",
			edit("github-actions.yml", `promote current prod "$APP"`, `promote current prod`), "positional arguments"},
		{"flag without its value", "gitlab-ci.yml",
			edit("gitlab-ci.yml", `--reason "GitLab pipeline $CI_PIPELINE_ID"`+"\n", `--reason`+"\n"), "--reason needs a value"},
		{"stage script with a flag to does not have", "github-actions.yml",
			edit("github-actions.yml", `"$APP@$DIGEST" --reason`, `"$APP@$DIGEST" --force --reason`), "no flag --force"},
		{"promote at latest", "buildspec.yml",
			edit("buildspec.yml", "promote@${PROMOTE_VERSION}", "promote@latest"), "pinned version"},
		{"GitLab job in an undeclared stage", "gitlab-ci.yml",
			edit("gitlab-ci.yml", "  stage: prod\n", "  stage: production\n"), `stage "production"`},
		{"GitLab job without script", "gitlab-ci.yml",
			edit("gitlab-ci.yml", "  script:\n    - promote current", "  scripts:\n    - promote current"), "promote-prod: no script"},
		{"GitLab needs an unknown job", "gitlab-ci.yml",
			edit("gitlab-ci.yml", "needs: [promote-test]", "needs: [promote-tests]"), `needs "promote-tests"`},
		{"buildspec phase without commands", "buildspec.yml",
			edit("buildspec.yml", "  build:\n    commands:", "  build:\n    comands:"), "phase build: no commands"},
		{"buildspec of another version", "buildspec.yml",
			edit("buildspec.yml", "version: 0.2", "version: 0.1"), "version 0.1"},
		{"workflow step with neither uses nor run", "github-actions.yml",
			edit("github-actions.yml", "        run: go install", "        runs: go install"), "neither uses nor run"},
		{"not YAML", "buildspec.yml", read("buildspec.yml") + "\n\t- tab\n", "yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkRecipe(c.kind, []byte(c.recipe))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestShellCommands(t *testing.T) {
	script := `code=0; promote to test "$APP:$TAG" --reason 'a b' >"$out" 2>&1 || code=$?
if promote current prod web; then echo "promote to x"; fi  # promote to nowhere
d=$(promote current test web --output json | jq -r .result.digest)
go install github.com/promote-dev/promote/cmd/promote@v1 \
  && promote --version`
	assert.Equal(t, [][]string{
		{"to", "test", "$APP:$TAG", "--reason", "a b"},
		{"current", "prod", "web"},
		{"current", "test", "web", "--output", "json"},
		{"--version"},
	}, promoteInvocations(script))
}

func TestCheckPromoteArgs(t *testing.T) {
	app := newApp(&state{})
	for _, ok := range [][]string{
		{"to", "test", "web:1", "--dry-run"},
		{"--output", "json", "to", "test", "web", "api"},
		{"to", "test", "web:1", "-o=json", "--tag", "x"},
		{"rollback", "prod", "web", "--to", "sha256:0123456789ab"},
		{"history"},
		{"ledger", "copy", "--from", "a", "--to", "b"},
		{"--version"},
	} {
		assert.NoError(t, checkPromoteArgs(app, ok), "%q", ok)
	}
	for _, bad := range [][]string{
		{"to", "test"},
		{"current", "prod", "web", "extra"},
		{"ledger"},
		{"ledger", "verfy"},
		{"history", "--limit"},
		{"rollback", "prod", "web", "--dry-rn"},
	} {
		assert.Error(t, checkPromoteArgs(app, bad), "%q", bad)
	}
}
