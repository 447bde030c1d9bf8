//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pushBaseAt pushes a two-layer linux/amd64 base image built at created
// (crane cannot set a creation time) and returns its digest.
func (p *pipeline) pushBaseAt(ref string, created time.Time) string {
	p.t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		p.t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		p.t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", "amd64", v1.Time{Time: created}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		p.t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		p.t.Fatalf("pushing base %s: %v", ref, err)
	}
	return p.digest(ref)
}

// appOn builds app on base with crane (append a layer with the base
// annotations, then labels and a non-root user) and tags it ref.
func (p *pipeline) appOn(base, ref, version string) string {
	p.t.Helper()
	p.crane("append", "-b", base, "-f", p.layerTar(), "--set-base-image-annotations", "-t", ref)
	p.crane("mutate", ref,
		"--label", "org.opencontainers.image.source=https://example.com/acme/"+version,
		"--label", "org.opencontainers.image.revision="+randomHex(p.t, 20),
		"--label", "org.opencontainers.image.version="+version,
		"--user", "65532", "-t", ref)
	return p.digest(ref)
}

// reportEntry is what the test reads of one app in one environment.
type reportEntry struct {
	Env, Status, Digest, Revocation string
	AgeDays                         *float64
	Bases                           []struct {
		Base       string
		DaysBehind *float64
	}
	Findings []struct{ Kind, Reason string }
}

// The patching scenario, with crane-built images on real registries: web
// is built on a base that is then patched (stale, 7 days behind), legacy on
// a 60-day-old base (an old image) and then revoked; the report says so in
// text, JSON, CSV and HTML, --rebuild names both, --fail-on exits 3, and the
// HTML page passes the browser test.
func TestReportScenario(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	now := time.Now().UTC()
	base, oldBase := p.A.Host+"/base/os:1", p.A.Host+"/base/os:0"
	p.pushBaseAt(base, now.Add(-10*24*time.Hour))
	p.pushBaseAt(oldBase, now.Add(-60*24*time.Hour))
	p.config = p.writeConfig(filepath.Join(p.dir, "report", "environments.yaml"),
		[]string{"base: {approved: [" + p.A.Host + "/base/*]}"}, []string{})
	web := p.appOn(base, p.repo("dev", "web")+":1.0", "1.0")
	legacy := p.appOn(oldBase, p.repo("dev", "legacy")+":0.9", "0.9")
	for _, app := range []string{"web:1.0", "legacy:0.9"} {
		p.mustPromote(0, "to", "test", app)
		p.mustPromote(0, "to", "prod", strings.Split(app, ":")[0])
	}

	r := p.mustPromote(0, "report", "--rebuild")
	if r.Stdout != "legacy\n" {
		t.Fatalf("before the base is patched only legacy (old) needs a rebuild:\n%s", r)
	}
	p.pushBaseAt(base, now.Add(-3*24*time.Hour)) // the base is patched, 7 days newer
	p.mustPromote(0, "revoke", "legacy@"+legacy, "--reason", "CVE-2026-4242")

	r = p.mustPromote(0, "report")
	for _, want := range []string{"web\n", "legacy\n", "STALE: built on a base with a newer image under its tag or version line, 7 days newer",
		"OLD: the image was built", "REVOKED: ", "rebuild: legacy web"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.Stdout)
		}
	}
	t.Logf("the scenario's report:\n%s", r.Stdout)
	if r = p.mustPromote(0, "report", "--rebuild"); r.Stdout != "legacy\nweb\n" {
		t.Errorf("--rebuild should name both apps, one a line:\n%s", r)
	}
	p.mustPromote(3, "report", "--fail-on", "stale")

	r, doc := p.promoteJSON("report")
	var rep struct {
		Apps []struct {
			App          string
			Environments []reportEntry
		}
	}
	decodeResult(t, doc, &rep)
	entries := map[string]reportEntry{}
	for _, a := range rep.Apps {
		for _, e := range a.Environments {
			entries[a.App+"/"+e.Env] = e
		}
	}
	w := entries["web/prod"]
	if w.Digest != web || w.Status != "amber" || len(w.Bases) != 1 || w.Bases[0].Base != base ||
		w.Bases[0].DaysBehind == nil || *w.Bases[0].DaysBehind < 6.99 || *w.Bases[0].DaysBehind > 7.01 {
		t.Errorf("web in prod should be amber, on %s, 7 days behind: %+v", base, w)
	}
	l := entries["legacy/prod"]
	if l.Status != "red" || l.Revocation == "" || l.AgeDays == nil || *l.AgeDays < 59 {
		t.Errorf("legacy in prod should be red, revoked and 60 days old: %+v", l)
	}

	r = p.mustPromote(0, "--output", "csv", "report")
	if !strings.Contains(r.Stdout, "web,prod,amber,"+web) || !strings.Contains(r.Stdout, "legacy,prod,red,"+legacy) {
		t.Errorf("the CSV should have a row per app and environment:\n%s", r.Stdout)
	}

	page := filepath.Join(p.dir, "report.html")
	r = p.mustPromote(0, "--output", "html", "report")
	if err := os.WriteFile(page, []byte(r.Stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	got := openReportPage(t, page, "")
	for _, app := range []string{"web", "legacy"} {
		for _, env := range []string{"test", "prod"} {
			if _, ok := got.Cells[app+"/"+env]; !ok {
				t.Errorf("the page has no cell for %s in %s: %v", app, env, got.Cells)
			}
		}
	}
	if got.Cells["web/prod"] != "amber" || got.Cells["legacy/prod"] != "red" {
		t.Errorf("the page should mark web amber (stale) and legacy red: %v", got.Cells)
	}
	raw, _ := json.Marshal(got)
	t.Logf("browser: %s", raw)
}
