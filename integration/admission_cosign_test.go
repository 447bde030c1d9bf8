//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// clusterImagePolicy is the part of the exported ClusterImagePolicy the
// test reads.
type clusterImagePolicy struct {
	Spec struct {
		Images      []struct{ Glob string } `yaml:"images"`
		Authorities []struct {
			SignatureFormat string `yaml:"signatureFormat"`
			Attestations    []struct {
				PredicateType string `yaml:"predicateType"`
				Policy        struct{ Type, Data string }
			} `yaml:"attestations"`
		} `yaml:"authorities"`
	} `yaml:"spec"`
}

// policy-controller cannot run promote's key-signed bundles yet
// (docs/admission.md), so its export's CUE policy is run where it can be:
// by the real cosign v3 verify-attestation --policy, which evaluates it
// against the same in-toto statement. The prod promotion passes; a
// digest promoted to prod and then revoked is refused.
func TestPolicyControllerExportCUEUnderCosign(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.keyPair()
	p.config = p.withProdPolicy("attest", "attest: {key: "+key+"}")
	dev, prod := p.repo("dev", "web"), p.repo("prod", "web")
	good := p.pushImage(dev+":1.0.0", image{Version: "1.0.0"})
	bad := p.pushImage(dev+":2.0.0", image{Version: "2.0.0"})
	p.mustPromote(0, "to", "test", "web:1.0.0")
	p.mustPromote(0, "to", "prod", "web")
	p.mustPromote(0, "to", "test", "web:2.0.0")
	p.mustPromote(0, "to", "prod", "web")
	p.mustPromote(0, "revoke", "web@"+bad, "--reason", "CVE-2026-0002")

	a := &admissionWorld{p: p}
	dir := a.export("policy-controller")
	b, err := os.ReadFile(filepath.Join(dir, "policy-controller", "clusterimagepolicy-promote-prod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cip clusterImagePolicy
	if err := yaml.Unmarshal(b, &cip); err != nil {
		t.Fatalf("the exported ClusterImagePolicy: %v\n%s", err, b)
	}
	if len(cip.Spec.Images) != 1 || cip.Spec.Images[0].Glob != p.B.Host+"/prod/web*" ||
		len(cip.Spec.Authorities) != 1 || cip.Spec.Authorities[0].SignatureFormat != "bundle" ||
		len(cip.Spec.Authorities[0].Attestations) != 1 || cip.Spec.Authorities[0].Attestations[0].Policy.Type != "cue" {
		t.Fatalf("unexpected ClusterImagePolicy:\n%s", b)
	}
	cue := filepath.Join(p.dir, "exported.cue")
	if err := os.WriteFile(cue, []byte(cip.Spec.Authorities[0].Attestations[0].Policy.Data), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, code := p.verifyAttestation(false, pub, prod+"@"+good, "--policy", cue); code != 0 {
		t.Errorf("the exported CUE policy should admit the prod promotion of %s: exit %d\n%s", good, code, got)
	}
	if got, code := p.verifyAttestation(false, pub, prod+"@"+bad, "--policy", cue); code == 0 {
		t.Errorf("the exported CUE policy should refuse the revoked %s:\n%s", bad, got)
	}
	if got, code := p.verifyAttestation(false, pub, prod+"@"+bad); code != 0 {
		t.Errorf("without the policy the revoked digest's attestation verifies (the refusal is the policy's): exit %d\n%s", code, got)
	}
}
