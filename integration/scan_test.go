//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// boundTrivy returns a real Trivy report from testdata/scan bound to ref
// (repo@digest) as `trivy image ref` run now would bind and date it:
// RepoDigests names it, ImageID is dropped, CreatedAt is the current time.
func (p *pipeline) boundTrivy(trivyFixture, ref string) []byte {
	p.t.Helper()
	raw, err := os.ReadFile(filepath.Join(signedRepoRoot(p.t), "testdata", "scan", trivyFixture))
	if err != nil {
		p.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		p.t.Fatal(err)
	}
	meta, _ := doc["Metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	delete(meta, "ImageID")
	meta["RepoDigests"] = []string{ref}
	doc["Metadata"], doc["ArtifactName"] = meta, ref
	doc["CreatedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	report, err := json.Marshal(doc)
	if err != nil {
		p.t.Fatal(err)
	}
	return report
}

// vulnPredicate writes a cosign vuln predicate whose scanner.result is a
// real Trivy report bound to ref, scanned a minute ago.
func (p *pipeline) vulnPredicate(trivyFixture, ref string) string {
	p.t.Helper()
	report := p.boundTrivy(trivyFixture, ref)
	now := time.Now().UTC()
	pred, err := json.Marshal(map[string]any{
		"invocation": map[string]any{"uri": "https://ci.example.com/run/1"},
		"scanner":    map[string]any{"uri": "pkg:github/aquasecurity/trivy", "version": "0.50.0", "result": json.RawMessage(report)},
		"metadata":   map[string]any{"scanStartedOn": now.Add(-time.Minute).Format(time.RFC3339), "scanFinishedOn": now.Format(time.RFC3339Nano)},
	})
	if err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.dir, "pred-"+randomHex(p.t, 4)+"-"+trivyFixture)
	signedWriteFile(p.t, path, string(pred))
	return path
}

// scanConfig writes a config whose test environment runs the scan gate on
// one source (report or attestation; pub signs attestations).
func (p *pipeline) scanConfig(source, pub string) string {
	p.t.Helper()
	gate := fmt.Sprintf("scan: {sources: [%s], attestation: {keys: [%s]}, maxSeverity: high}", source, pub)
	if source != "attestation" {
		gate = fmt.Sprintf("scan: {sources: [%s], maxSeverity: high}", source)
	}
	return p.writeConfig(filepath.Join(p.dir, source+".yaml"), []string{gate}, nil)
}

func TestScanGateReadsSignedVulnAttestations(t *testing.T) {
	p := newPipeline(t)
	key, pub := p.keyPair()
	cfg := p.scanConfig("attestation", pub)
	outcome := func(ref string, want int, extra ...string) gateOutcome {
		t.Helper()
		r := p.promoteWith(cfg, append([]string{"--output", "json", "to", "test", ref}, extra...)...)
		if r.Code != want {
			t.Fatalf("expected exit %d:\n%s", want, r)
		}
		var res promotion
		decodeResult(t, parseDocument(t, r), &res)
		g := gate(res.Gates, "scan")
		if g == nil {
			t.Fatalf("no scan outcome:\n%s", r)
		}
		return *g
	}

	clean := p.pushImage(p.repo("dev", "clean")+":1.0", image{})
	p.attestVulnPredicate(false, key, p.repo("dev", "clean"), clean, p.vulnPredicate("trivy-sl-micro-rancher5.4.json", p.repo("dev", "clean")+"@"+clean))
	if g := outcome("clean:1.0", 0); g.Verdict != "pass" {
		t.Fatalf("a clean signed attestation passes: %+v", g)
	}

	vulnerable := p.pushImage(p.repo("dev", "vuln")+":1.0", image{})
	p.attestVulnPredicate(true, key, p.repo("dev", "vuln"), vulnerable, p.vulnPredicate("trivy-photon-30.json", p.repo("dev", "vuln")+"@"+vulnerable))
	g := outcome("vuln:1.0", 3)
	if g.Verdict != "fail" || !strings.Contains(g.Reason, "CVE-2019-5481") || !strings.Contains(g.Reason, "CRITICAL") {
		t.Fatalf("critical findings in a signed attestation fail at maxSeverity high: %+v", g)
	}

	unsigned := p.pushImage(p.repo("dev", "none")+":1.0", image{})
	otherKey, _ := p.namedKeyPair("stranger")
	p.attestVulnPredicate(false, otherKey, p.repo("dev", "none"), unsigned, p.vulnPredicate("trivy-sl-micro-rancher5.4.json", p.repo("dev", "none")+"@"+unsigned))
	g = outcome("none:1.0", 3)
	if g.Verdict != "fail" || !strings.Contains(g.Reason, "no verified vulnerability attestation") {
		t.Fatalf("an attestation signed by an unknown key does not count: %+v", g)
	}
}

func TestScanGateReadsReportFiles(t *testing.T) {
	p := newPipeline(t)
	_, pub := p.keyPair()
	cfg := p.scanConfig("report", pub)
	promoteWith := func(ref, report string, want int) gateOutcome {
		t.Helper()
		r := p.promoteWith(cfg, "--output", "json", "to", "test", ref, "--scan-report", report)
		if r.Code != want {
			t.Fatalf("expected exit %d:\n%s", want, r)
		}
		var res promotion
		decodeResult(t, parseDocument(t, r), &res)
		return *gate(res.Gates, "scan")
	}
	write := func(name string, data []byte) string {
		path := filepath.Join(p.dir, name)
		signedWriteFile(t, path, string(data))
		return path
	}
	clean := p.pushImage(p.repo("dev", "web")+":1.0", image{})
	vuln := p.pushImage(p.repo("dev", "web")+":1.1", image{})
	cleanReport := write("clean.json", p.boundTrivy("trivy-sl-micro-rancher5.4.json", p.repo("dev", "web")+"@"+clean))
	if g := promoteWith("web:1.0", cleanReport, 0); g.Verdict != "pass" {
		t.Fatalf("a clean report bound to the digest passes: %+v", g)
	}
	g := promoteWith("web:1.1", write("vuln.json", p.boundTrivy("trivy-fluentd-gems.json", p.repo("dev", "web")+"@"+vuln)), 3)
	if !strings.Contains(g.Reason, "CVE-2019-18224") {
		t.Fatalf("the critical finding is named: %+v", g)
	}
	g = promoteWith("web:1.1", cleanReport, 3)
	if !strings.Contains(g.Reason, "not this image") {
		t.Fatalf("a report of another image is refused: %+v", g)
	}
	var stale map[string]any
	if err := json.Unmarshal(p.boundTrivy("trivy-sl-micro-rancher5.4.json", p.repo("dev", "web")+"@"+vuln), &stale); err != nil {
		t.Fatal(err)
	}
	stale["CreatedAt"] = time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339)
	staleReport, err := json.Marshal(stale)
	if err != nil {
		t.Fatal(err)
	}
	g = promoteWith("web:1.1", write("stale.json", staleReport), 3)
	if !strings.Contains(g.Reason, "stale.json was scanned 10d ago") || !strings.Contains(g.Reason, "more than maxReportAge 7d") {
		t.Fatalf("a clean report scanned 10 days ago is refused at the default maxReportAge: %+v", g)
	}
	r := p.promoteWith(cfg, "to", "test", "web:1.1", "--scan-report", filepath.Join(p.dir, "missing.json"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "missing.json") {
		t.Fatalf("a missing report file is a usage error naming it:\n%s", r)
	}
}
