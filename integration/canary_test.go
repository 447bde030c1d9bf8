//go:build integration

package integration

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The secret scan cannot pass by finding nothing anywhere: this test puts a
// canary, registered like a secret, on purpose into every kind of place the
// suite collects (canaryKinds) and in every encoding it looks for
// (canaryEncs): a promote error (raw), a command printing its base64, URL
// and hex forms, a SQLite and an S3 ledger record (as --reason), a blob in
// a registry's storage and a registry's access log (a URL-encoded query).
// TestMain fails the suite unless the scan finds the canary in each.
func TestSecretScanFindsCanary(t *testing.T) {
	t.Parallel()
	canary := plantCanary(t)
	dir := t.TempDir()
	reg := startRegistryWith(t, "canary", registryOptions{AccessLog: true})
	p := newPipelineOn(t, dir, reg, reg)
	dev := p.repo("dev", "web")
	p.pushImage(dev+":1.0.0", image{})
	p.pushImage(dev+":1.0.1", image{})

	// Output, raw: an error that echoes its argument.
	if r := p.promote("show", canary); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, canary) {
		t.Errorf("promote show CANARY should fail naming what it did not find:\n%s", r)
	}
	// Output, encoded.
	echo, err := exec.LookPath("echo")
	if err != nil {
		t.Fatalf("echo: %v", err)
	}
	if _, _, code := run(context.Background(), dir, toolEnv(p.home), echo,
		base64.StdEncoding.EncodeToString([]byte("user:"+canary)),
		base64.URLEncoding.EncodeToString([]byte("u:"+canary)),
		"https://example.com/?token="+url.QueryEscape(canary),
		hex.EncodeToString([]byte(canary))); code != 0 {
		t.Fatalf("echo failed")
	}

	// Ledger files (SQLite) and S3 objects: a record's reason.
	p.mustPromote(0, "to", "test", "web:1.0.0", "--reason", canary)
	s := startS3(t, false)
	s.createBucket(t, "canary", false)
	p.env, p.ledger = s.awsEnv(t), "s3://canary/ledger"
	cfg := p.writeConfig(filepath.Join(dir, "s3", "environments.yaml"), nil, nil)
	if r := p.promoteWith(cfg, "to", "test", "web:1.0.1", "--reason", canary); r.Code != 0 {
		t.Fatalf("promotion with the S3 ledger failed:\n%s", r)
	}

	// Registry storage: a blob.
	repo, err := name.NewRepository(reg.Host+"/canary/blob", name.Insecure)
	if err != nil {
		t.Fatalf("repository: %v", err)
	}
	if err := remote.WriteLayer(repo, static.NewLayer([]byte("canary "+canary+"\n"), types.OCILayer)); err != nil {
		t.Fatalf("writing the canary blob: %v", err)
	}

	// Registry log: a request whose query carries the canary, URL-encoded.
	resp, err := http.Get("http://" + reg.Host + "/v2/?canary=" + url.QueryEscape(canary))
	if err != nil {
		t.Fatalf("GET /v2/: %v", err)
	}
	resp.Body.Close()
}
