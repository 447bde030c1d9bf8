//go:build integration

package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// baseConfig writes a config whose test environment runs only the base gate
// with the given approved patterns.
func (p *pipeline) baseConfig(approved ...string) string {
	p.t.Helper()
	path := filepath.Join(p.dir, fmt.Sprintf("base-%d.yaml", len(approved)+len(strings.Join(approved, ""))))
	return p.writeConfig(path, []string{"base: {approved: [" + strings.Join(approved, ", ") + "]}"}, nil)
}

// pushBase builds a two-layer linux/amd64 base image with crane.
func (p *pipeline) pushBase(ref string) string {
	p.t.Helper()
	p.crane("append", "--oci-empty-base", "-f", p.layerTar(), "-t", ref)
	p.crane("append", "-b", ref, "-f", p.layerTar(), "-t", ref)
	p.crane("mutate", ref, "--set-platform", "linux/amd64", "-t", ref)
	return p.digest(ref)
}

// pushOn builds an app image on base with crane append (with or without the
// base annotations) and returns its digest.
func (p *pipeline) pushOn(base, ref string, annotate bool) string {
	p.t.Helper()
	args := []string{"append", "-b", base, "-f", p.layerTar(), "-t", ref}
	if annotate {
		args = append(args, "--set-base-image-annotations")
	}
	p.crane(args...)
	return p.digest(ref)
}

// baseVerdict promotes ref into test with config and returns the base gate's outcome.
func (p *pipeline) baseVerdict(config, ref string, wantExit int) gateOutcome {
	p.t.Helper()
	r := p.promoteWith(config, "--output", "json", "to", "test", ref)
	if r.Code != wantExit {
		p.t.Fatalf("expected exit %d:\n%s", wantExit, r)
	}
	var res promotion
	decodeResult(p.t, parseDocument(p.t, r), &res)
	g := gate(res.Gates, "base")
	if g == nil {
		p.t.Fatalf("no base gate outcome:\n%s", r)
	}
	return *g
}

func TestBaseGateWithCraneBuiltImages(t *testing.T) {
	p := newPipeline(t)
	base := p.A.Host + "/base/alpine:3.20"
	baseDigest := p.pushBase(base)
	other := p.A.Host + "/other/debian:12"
	p.pushBase(other)

	annotated := p.baseConfig(p.A.Host + "/base/*")
	exact := p.baseConfig(p.A.Host + "/base/alpine")

	t.Run("annotated and approved", func(t *testing.T) {
		p.pushOn(base, p.repo("dev", "web")+":1.0", true)
		g := p.baseVerdict(annotated, "web:1.0", 0)
		if g.Verdict != "pass" || !strings.Contains(g.Reason, "via annotation") || !strings.Contains(g.Reason, baseDigest) {
			t.Fatalf("expected a pass via annotation naming %s: %+v", baseDigest, g)
		}
		if !strings.Contains(g.Reason, "2 of 3 layers") {
			t.Errorf("expected the base's 2 of the image's 3 layers: %s", g.Reason)
		}
	})
	t.Run("no annotations, found by search", func(t *testing.T) {
		p.pushOn(base, p.repo("dev", "api")+":1.0", false)
		g := p.baseVerdict(exact, "api:1.0", 0)
		if g.Verdict != "pass" || !strings.Contains(g.Reason, "via search") || !strings.Contains(g.Reason, base) {
			t.Fatalf("expected a pass via search naming %s: %+v", base, g)
		}
	})
	t.Run("annotated with an unapproved base", func(t *testing.T) {
		p.pushOn(other, p.repo("dev", "odd")+":1.0", true)
		g := p.baseVerdict(annotated, "odd:1.0", 3)
		if g.Verdict != "fail" || !strings.Contains(g.Reason, "is not approved") {
			t.Fatalf("expected an unapproved-base rejection: %+v", g)
		}
	})
	t.Run("FROM scratch", func(t *testing.T) {
		p.pushImage(p.repo("dev", "scratch")+":1.0", image{})
		g := p.baseVerdict(exact, "scratch:1.0", 3)
		if g.Verdict != "fail" || !strings.Contains(g.Reason, "FROM scratch") {
			t.Fatalf("expected a FROM scratch rejection: %+v", g)
		}
		if p.hasTag(p.repo("test", "scratch"), "1.0") {
			t.Errorf("a rejected image was tagged in test")
		}
	})
}
