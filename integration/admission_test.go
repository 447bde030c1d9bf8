//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// admissionTool finds an admission controller's CLI (gator, kyverno) in
// PATH, failing the test when it is missing: `make tools` installs both.
func admissionTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: run `make tools`, which installs it into .tools/bin, and put .tools/bin on PATH", name)
	}
	return p
}

// admissionWorld is a pipeline whose prod runs web 1.0 (good) and whose
// web 2.0 was revoked after reaching test, with the pods an admission
// suite judges: name → the YAML of one Pod.
type admissionWorld struct {
	p         *pipeline
	good, bad string // digests: web 1.0 in prod, web 2.0 revoked
	pods      map[string]string
	prodRepo  string
}

func newAdmissionWorld(t *testing.T) *admissionWorld {
	p := newPipeline(t)
	dev := p.repo("dev", "web")
	a := &admissionWorld{p: p, prodRepo: p.repo("prod", "web")}
	a.good = p.pushImage(dev+":1.0.0", image{Version: "1.0.0"})
	a.bad = p.pushImage(dev+":2.0.0", image{Version: "2.0.0"})
	p.mustPromote(0, "to", "test", "web:1.0.0")
	p.mustPromote(0, "to", "prod", "web")
	p.mustPromote(0, "to", "test", "web:2.0.0")
	p.mustPromote(0, "revoke", "web@"+a.bad, "--reason", "CVE-2026-0001")
	pod := func(name, kind, image string) string {
		others := ""
		if kind != "containers" {
			others = fmt.Sprintf("  containers:\n    - name: main\n      image: %s@%s\n", a.prodRepo, a.good)
		}
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: default\nspec:\n%s  %s:\n    - name: c\n      image: %s\n",
			name, others, kind, image)
	}
	a.pods = map[string]string{
		"allowed":            pod("allowed", "containers", a.prodRepo+"@"+a.good),
		"allowed-init":       pod("allowed-init", "initContainers", a.prodRepo+"@"+a.good),
		"tag-only":           pod("tag-only", "containers", a.prodRepo+":1.0.0"),
		"other-registry":     pod("other-registry", "containers", p.repo("test", "web")+"@"+a.good),
		"moving-tag":         pod("moving-tag", "containers", a.prodRepo+":latest@"+a.good),
		"revoked":            pod("revoked", "containers", a.prodRepo+"@"+a.bad),
		"init-tag-only":      pod("init-tag-only", "initContainers", a.prodRepo+":1.0.0"),
		"ephemeral-revoked":  pod("ephemeral-revoked", "ephemeralContainers", a.prodRepo+"@"+a.bad),
		"ephemeral-registry": pod("ephemeral-registry", "ephemeralContainers", "docker.io/library/busybox@"+a.good),
		// prod's pattern would expand to these too: no app of prod lives there
		"unpromoted-app": pod("unpromoted-app", "containers", p.repo("prod", "evil")+"@"+a.good),
		"nested-path":    pod("nested-path", "containers", a.prodRepo+"/evil@"+a.good),
	}
	return a
}

// allowedPods are the pods every export admits; every other pod is denied.
var allowedPods = map[string]bool{"allowed": true, "allowed-init": true}

// why is the part of the denial each denied pod must carry (Gatekeeper's
// messages).
var why = map[string]string{
	"tag-only": "not referenced by digest", "other-registry": "is not from a repository of environment prod's apps",
	"moving-tag": "names the moving tag latest", "revoked": "is revoked (app web",
	"init-tag-only": "not referenced by digest", "ephemeral-revoked": "is revoked",
	"ephemeral-registry": "is not from a repository of environment prod's apps",
	"unpromoted-app":     "is not from a repository of environment prod's apps",
	"nested-path":        "is not from a repository of environment prod's apps",
}

// export runs promote policy export --for controller into a fresh
// directory, twice, requires the same bytes both times, and returns the
// directory.
func (a *admissionWorld) export(controller string, extra ...string) string {
	a.p.t.Helper()
	var dirs [2]string
	for i := range dirs {
		dirs[i] = filepath.Join(a.p.dir, fmt.Sprintf("export-%s-%d", controller, i))
		a.p.mustPromote(0, append([]string{"policy", "export", "--for", controller, "--out", dirs[i]}, extra...)...)
	}
	first, second := readTree(a.p.t, dirs[0]), readTree(a.p.t, dirs[1])
	if len(first) == 0 || len(first) != len(second) {
		a.p.t.Fatalf("export --for %s wrote %d then %d files", controller, len(first), len(second))
	}
	for name, b := range first {
		if !bytes.Equal(b, second[name]) {
			a.p.t.Fatalf("export --for %s: %s differs between two exports", controller, name)
		}
		if !bytes.Contains(b, []byte("promote.dev/config-sha256: ")) || !bytes.Contains(b, []byte("promote.dev/ledger-")) {
			a.p.t.Fatalf("export --for %s: %s names no config or ledger state:\n%s", controller, name, b)
		}
	}
	return dirs[0]
}

// readTree reads every file under dir, by path relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return out
}

// writePods writes each pod into dir/pods and returns the directory.
func (a *admissionWorld) writePods(dir string) string {
	a.p.t.Helper()
	pods := filepath.Join(dir, "pods")
	if err := os.MkdirAll(pods, 0o755); err != nil {
		a.p.t.Fatal(err)
	}
	for name, y := range a.pods {
		if err := os.WriteFile(filepath.Join(pods, name+".yaml"), []byte(y), 0o644); err != nil {
			a.p.t.Fatal(err)
		}
	}
	return pods
}

// Gatekeeper's own test CLI, gator verify, runs the exported template and
// constraint against the pods: a prod image by digest (in containers or
// initContainers) is allowed; a tag-only reference, another registry, a
// moving tag and a revoked digest are each denied, in every kind of
// container, with the reason.
func TestGatekeeperExportPassesGatorVerify(t *testing.T) {
	t.Parallel()
	gator := admissionTool(t, "gator")
	a := newAdmissionWorld(t)
	dir := a.export("gatekeeper")
	a.writePods(dir)
	var b strings.Builder
	b.WriteString("kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata:\n  name: promote-prod\ntests:\n  - name: prod\n")
	b.WriteString("    template: gatekeeper/constrainttemplate-promoteimages.yaml\n    constraint: gatekeeper/constraint-promote-prod.yaml\n    cases:\n")
	for _, name := range slices.Sorted(maps.Keys(a.pods)) {
		if allowedPods[name] {
			fmt.Fprintf(&b, "      - name: %s\n        object: pods/%s.yaml\n        assertions:\n          - violations: no\n", name, name)
			continue
		}
		fmt.Fprintf(&b, "      - name: %s\n        object: pods/%s.yaml\n        assertions:\n          - violations: yes\n          - violations: 1\n            message: %q\n",
			name, name, regexpQuote(why[name]))
	}
	if err := os.WriteFile(filepath.Join(dir, "suite.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t.Context(), dir, toolEnv(a.p.home), gator, "verify", "-v", ".")
	if code != 0 {
		t.Fatalf("gator verify failed (exit %d):\n%s\n%s", code, out, errOut)
	}
	for _, name := range slices.Sorted(maps.Keys(a.pods)) {
		if !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("gator verify ran no passing case %s:\n%s", name, out)
		}
	}
}

// regexpQuote escapes what gator's message assertion (a regular
// expression) would read as syntax.
func regexpQuote(s string) string {
	r := strings.NewReplacer("(", `\(`, ")", `\)`, ".", `\.`, "'", ".")
	return r.Replace(s)
}
