//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The pipeline recipes of docs/ci: the GitHub Actions workflow checked by
// actionlint, the real validator (the GitLab and CodeBuild files are
// checked by parsing, in cmd/promote's recipes tests), and the stage
// script all three recipes call, run on a real pipeline.

var ciDir = filepath.Join("..", "docs", "ci")

// lookTool finds a program the CI recipe tests need, or fails saying how to
// get it.
func lookTool(t *testing.T, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH (%s)", name, hint)
	}
	return p
}

func TestCIWorkflowPassesActionlint(t *testing.T) {
	t.Parallel()
	actionlint := lookTool(t, "actionlint", "run `make tools`, which installs it pinned into .tools/bin, and put .tools/bin on PATH")
	for _, f := range []string{"github-actions.yml", "report-daily.yml"} {
		workflow := filepath.Join(ciDir, f)
		out, errOut, code := run(context.Background(), ".", os.Environ(), actionlint, "-no-color", workflow)
		if code != 0 {
			t.Fatalf("actionlint %s: exit %d\n%s%s", workflow, code, out, errOut)
		}
	}

	// Broken on purpose: a misspelt input of configure-aws-credentials and a
	// job that needs one that does not exist.
	workflow := filepath.Join(ciDir, "github-actions.yml")
	data, err := os.ReadFile(workflow)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "role-to-assume:", "role-to-asume:", 1)
	broken = strings.Replace(broken, "needs: test\n", "needs: tset\n", 1)
	if broken == string(data) {
		t.Fatalf("%s no longer holds the text this test breaks", workflow)
	}
	bad := filepath.Join(t.TempDir(), "broken.yml")
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(context.Background(), ".", os.Environ(), actionlint, "-no-color", bad)
	if code != 1 {
		t.Fatalf("actionlint on a broken workflow: exit %d, expected 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{`"role-to-asume" is not defined`, `"tset"`} {
		if !strings.Contains(out, want) {
			t.Errorf("actionlint did not report %s:\n%s", want, out)
		}
	}
}

// stageRun is one run of docs/ci/promote-stage.sh and the JSON result it
// keeps.
type stageRun struct {
	cmdResult
	doc document
}

// stage runs the recipes' stage script with the real promote first on PATH,
// in a directory of its own.
func (p *pipeline) stage(args ...string) stageRun {
	p.t.Helper()
	bash := lookTool(p.t, "bash", "apt-get install bash")
	lookTool(p.t, "jq", "run `make tools`, or apt-get install jq")
	script, err := filepath.Abs(filepath.Join(ciDir, "promote-stage.sh"))
	if err != nil {
		p.t.Fatal(err)
	}
	dir := p.t.TempDir()
	env := append(toolEnv(p.home), p.env...)
	env = append(env, "PROMOTE_CONFIG="+p.config,
		"PATH="+filepath.Dir(p.tools.promote)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, errOut, code := run(context.Background(), dir, env, bash, append([]string{script}, args...)...)
	r := stageRun{cmdResult: cmdResult{Args: append([]string{"(promote-stage.sh)"}, args...), Stdout: out, Stderr: errOut, Code: code}}
	data, err := os.ReadFile(filepath.Join(dir, "promote-result.json"))
	if err != nil {
		p.t.Fatalf("the stage script kept no promote-result.json: %v\n%s", err, r.cmdResult)
	}
	if err := json.Unmarshal(data, &r.doc); err != nil {
		p.t.Fatalf("promote-result.json is not one JSON document: %v\n%s", err, data)
	}
	if r.doc.ExitCode != code {
		p.t.Errorf("the stage script exited %d, the result says %d: it must pass promote's code on\n%s", code, r.doc.ExitCode, r.cmdResult)
	}
	return r
}

// The stage script turns each of promote's outcomes into a message that
// says what happened, and exits with promote's code: 0 promoted, 0 nothing
// to do, 3 rejected by a gate (naming it), 4 conflict (naming the tag).
func TestCIStageScriptHandlesEveryOutcome(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	dev, test := p.repo("dev", "web"), p.repo("test", "web")
	first := p.pushImage(dev+":1.0", image{Version: "1.0"})

	r := p.stage("test", "web:1.0", "--dry-run")
	if r.Code != 0 || !strings.Contains(r.Stdout, "dry run: would promote "+test+"@"+first+"; nothing written") {
		t.Fatalf("expected exit 0 and the dry run's reference:\n%s", r.cmdResult)
	}
	r = p.stage("test", "web:1.0", "--reason", "stage script test")
	if r.Code != 0 || !strings.Contains(r.Stdout, "promoted "+test+"@"+first+" (record ") {
		t.Fatalf("expected exit 0 and the promoted reference with its record:\n%s", r.cmdResult)
	}
	r = p.stage("test", "web:1.0")
	if r.Code != 0 || !strings.Contains(r.Stdout, "nothing to do: test already holds "+test+"@"+first) {
		t.Errorf("expected exit 0 and nothing to do on the same promotion again:\n%s", r.cmdResult)
	}

	p.pushImage(dev+":root", image{Version: "1.1", User: "0"})
	r = p.stage("test", "web:root")
	if r.Code != 3 || !strings.Contains(r.Stderr, "REJECTED") || !strings.Contains(r.Stderr, "\n  FAIL nonroot: runs as root") {
		t.Errorf("expected exit 3 naming the failed nonroot gate:\n%s", r.cmdResult)
	}

	second := p.pushImage(dev+":1.0", image{Version: "1.0"}) // rebuilt under the same tag
	r = p.stage("test", "web:1.0")
	if r.Code != 4 || !strings.Contains(r.Stderr, "CONFLICT") || !strings.Contains(r.Stderr, first) {
		t.Errorf("expected exit 4 naming the digest test:1.0 holds (%s):\n%s", first, r.cmdResult)
	}
	if p.hasManifest(test, second) {
		t.Errorf("the conflicting digest %s was written to test", second)
	}

	r = p.stage("test", "web:1.0", "--no-such-flag")
	if r.Code != 2 || !strings.Contains(r.Stderr, "no-such-flag") {
		t.Errorf("expected exit 2 naming the bad flag:\n%s", r.cmdResult)
	}
}
