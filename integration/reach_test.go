//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A registry promote cannot reach or is not let into fails at once (or, a
// refused connection, within a few quick tries), and the error names the
// registry's host, the environment and its `repository:` line, and where
// credentials come from.
func TestUnreachableRegistriesNameTheEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startRegistry(t, "reach-open")
	b := startRegistryWith(t, "reach-auth", registryOptions{
		Htpasswd: writeHtpasswd(t, filepath.Join(dir, "htpasswd"), "promoter", "the-right-password")})
	markInsecure(t, b.Host)
	p := newPipelineOn(t, dir, a, b)
	p.pushImage(p.repo("dev", "web")+":1.0.0", image{Version: "1.0.0"})
	p.mustPromote(0, "to", "test", "web:1.0.0")

	expect := func(r cmdResult, within time.Duration, took time.Duration, wants ...string) {
		t.Helper()
		if r.Code != 1 {
			t.Errorf("expected exit 1, got %d:\n%s", r.Code, r)
		}
		for _, w := range wants {
			if !strings.Contains(r.Stdout+r.Stderr, w) {
				t.Errorf("the output does not say %q:\n%s", w, r)
			}
		}
		if strings.Contains(r.Stderr, "use GET for details") {
			t.Errorf("go-containerregistry's advice leaked:\n%s", r)
		}
		if took > within {
			t.Errorf("took %s, more than %s:\n%s", took, within, r)
		}
	}
	timed := func(f func() cmdResult) (cmdResult, time.Duration) {
		start := time.Now()
		r := f()
		return r, time.Since(start)
	}

	authFailed := []string{"authentication failed for " + b.Host + " (prod)",
		"Environment prod is configured with `repository: " + b.Host + "/prod/{app}`",
		"docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json", "credential helpers", "401 Unauthorized"}
	t.Run("no credentials", func(t *testing.T) {
		r, took := timed(func() cmdResult { return p.promote("to", "prod", "web") })
		expect(r, 30*time.Second, took, authFailed...)
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := dockerConfig(t, filepath.Join(dir, "bad"), map[string][2]string{b.Host: {"promoter", "a-wrong-password"}})
		r, took := timed(func() cmdResult {
			return p.promoteEnv([]string{"DOCKER_CONFIG=" + bad}, "--output", "json", "to", "prod", "web")
		})
		expect(r, 30*time.Second, took, authFailed...)
		if doc := parseDocument(t, r); !strings.Contains(doc.Error, "authentication failed for "+b.Host+" (prod)") {
			t.Errorf("the JSON error does not say it: %q", doc.Error)
		}
	})
	t.Run("closed port", func(t *testing.T) {
		port, err := freePort() // free now: nothing listens on it
		if err != nil {
			t.Fatal(err)
		}
		closed := "127.0.0.1:" + strconv.Itoa(port)
		raw, err := os.ReadFile(p.config)
		if err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "closed.yaml")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(raw), b.Host, closed)), 0o600); err != nil {
			t.Fatal(err)
		}
		r, took := timed(func() cmdResult { return p.promoteWith(cfg, "--verbose", "to", "prod", "web") })
		// Was 16 attempts over 17 s; now three quick tries per scheme.
		expect(r, 10*time.Second, took, "cannot connect to registry "+closed+" (prod): connection refused",
			"Environment prod is configured with `repository: "+closed+"/prod/{app}`",
			`attempt="1 of 3"`, `attempt="2 of 3"`)
		if strings.Contains(r.Stderr, `attempt="3 of`) {
			t.Errorf("retried after the last attempt:\n%s", r)
		}
	})
}
