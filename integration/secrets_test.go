//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretsWorld is a pipeline on which every credential is a planted
// secret: registry A (dev, test) wants Basic auth (htpasswd, bcrypt),
// registry B (prod) the token flow, the ledger is on S3 (versitygw), the
// images are signed with a password-protected cosign key and prod signs
// promotion attestations with another.
type secretsWorld struct {
	*pipeline
	s3                            *s3Server
	regPass, tokPass, token       string
	signKey, signPass, attestPass string
	// env that swaps in wrong credentials
	wrongA, wrongB, wrongAWS, wrongAWSToken, wrongKey []string
}

func newSecretsWorld(t *testing.T) *secretsWorld {
	t.Helper()
	w := &secretsWorld{
		regPass: newSecret(t, "registry A password (htpasswd)"), tokPass: newSecret(t, "registry B password (token realm)"),
		token: newSecret(t, "registry B bearer token"), attestPass: newSecret(t, "attestation key password"),
		signPass: newSecret(t, "signing key password (COSIGN_PASSWORD)"),
	}
	dir := t.TempDir()
	a := startRegistryWith(t, "basic-auth", registryOptions{AccessLog: true,
		Htpasswd: writeHtpasswd(t, filepath.Join(dir, "htpasswd"), "promoter", w.regPass)})
	upstream := startRegistryWith(t, "behind-token-proxy", registryOptions{AccessLog: true, NotInsecure: true})
	tp := startTokenProxy(t, upstream.Host, "ci-bot", w.tokPass, w.token)
	w.s3 = startS3With(t, false, plantSecret(t, "AWS access key id", "AKIA"+strings.ToUpper(randomHex(t, 8))),
		newSecret(t, "AWS secret access key"))
	w.s3.createBucket(t, "ledger", false)

	w.pipeline = newPipelineOn(t, dir, a, &registry{Host: tp.Host, Dir: upstream.Dir})
	// As in CI: COSIGN_PASSWORD (the signing key's) is in promote's env too.
	w.env = append(w.s3.awsEnv(t), "PROMOTE_ATTEST_KEY_PASSWORD="+w.attestPass, "COSIGN_PASSWORD="+w.signPass)
	w.ledger = "s3://ledger/promote"
	dockerConfig(t, filepath.Join(w.home, ".docker"), map[string][2]string{
		a.Host: {"promoter", w.regPass}, tp.Host: {"ci-bot", w.tokPass}})
	badA := dockerConfig(t, filepath.Join(dir, "bad-a"), map[string][2]string{
		a.Host: {"promoter", newSecret(t, "wrong registry A password")}, tp.Host: {"ci-bot", w.tokPass}})
	badB := dockerConfig(t, filepath.Join(dir, "bad-b"), map[string][2]string{
		a.Host: {"promoter", w.regPass}, tp.Host: {"ci-bot", newSecret(t, "wrong registry B password")}})
	w.wrongA, w.wrongB = []string{"DOCKER_CONFIG=" + badA}, []string{"DOCKER_CONFIG=" + badB}
	w.wrongAWS = []string{"AWS_SECRET_ACCESS_KEY=" + newSecret(t, "wrong AWS secret access key")}
	w.wrongAWSToken = []string{"AWS_SECRET_ACCESS_KEY=" + newSecret(t, "wrong AWS secret access key 2"),
		"AWS_SESSION_TOKEN=" + newSecret(t, "AWS session token")}
	w.wrongKey = []string{"PROMOTE_ATTEST_KEY_PASSWORD=" + newSecret(t, "wrong attestation key password")}

	var signPub string
	w.signKey, signPub = w.passwordKeyPair("sign", w.signPass)
	attestKey, _ := w.passwordKeyPair("attest", w.attestPass)
	w.config = filepath.Join(dir, "environments.yaml")
	cfg := fmt.Sprintf(`version: 1
ledger: %s
environments:
  - name: dev
    repository: %s/dev/{app}
    tags: mutable
  - name: test
    from: dev
    repository: %s/test/{app}
    tags: immutable
    gates: [nonroot: {}, signed: {keys: [%s]}]
  - name: prod
    from: test
    repository: %s/prod/{app}
    tags: immutable
    gates: [labels: {}, signed: {keys: [%s]}]
    attest: {key: %s}
`, w.ledger, a.Host, a.Host, signPub, tp.Host, signPub, attestKey)
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return w
}

// passwordKeyPair generates a cosign key pair encrypted with password.
func (p *pipeline) passwordKeyPair(prefix, password string) (key, pub string) {
	p.t.Helper()
	out, errOut, code := run(context.Background(), p.dir, append(toolEnv(p.home), "COSIGN_PASSWORD="+password),
		p.tools.cosign, "generate-key-pair", "--output-key-prefix", prefix)
	if code != 0 {
		p.t.Fatalf("cosign generate-key-pair (with a password): exit %d\n%s%s", code, out, errOut)
	}
	return filepath.Join(p.dir, prefix+".key"), filepath.Join(p.dir, prefix+".pub")
}

// pushSigned pushes web:tag to dev and signs it with the password key.
func (w *secretsWorld) pushSigned(tag string, img image) {
	w.t.Helper()
	ref := w.repo("dev", "web") + "@" + w.pushImage(w.repo("dev", "web")+":"+tag, img)
	out, errOut, code := run(context.Background(), w.dir, append(toolEnv(w.home), "COSIGN_PASSWORD="+w.signPass), w.tools.cosign,
		"sign", "--key", w.signKey, "--tlog-upload=false", "--allow-http-registry", "--yes", ref)
	if code != 0 {
		w.t.Fatalf("cosign sign %s with a password key: exit %d\n%s%s", ref, code, out, errOut)
	}
}

// expect runs promote with extra env and fails unless it exits want; it
// also fails at once if a secret shows raw (TestMain scans every encoding).
func (w *secretsWorld) expect(want int, env []string, args ...string) cmdResult {
	w.t.Helper()
	r := w.promoteEnv(env, args...)
	if r.Code != want {
		w.t.Errorf("expected exit %d, got %d:\n%s", want, r.Code, r)
	}
	w.noRawSecret(r, env)
	return r
}

func (w *secretsWorld) noRawSecret(r cmdResult, env []string) {
	w.t.Helper()
	for _, s := range []string{w.regPass, w.tokPass, w.token, w.attestPass, w.s3.Secret, w.signPass} {
		if strings.Contains(r.Stdout+r.Stderr, s) {
			w.t.Errorf("promote %s printed a planted secret", strings.Join(r.Args, " "))
		}
	}
	for _, kv := range env {
		if _, v, _ := strings.Cut(kv, "="); len(v) >= 12 && strings.Contains(r.Stdout+r.Stderr, v) {
			w.t.Errorf("promote %s printed the value of %s", strings.Join(r.Args, " "), kv[:strings.IndexByte(kv, '=')])
		}
	}
}

var unauthorizedRE = regexp.MustCompile(`(?i)401|unauthori[sz]ed|authentication required|invalid username or password`)

// Real credentials everywhere, and every path that could print them: a
// promotion with --verbose in text and JSON, a gate rejection, history,
// show, current, gates and ledger verify, wrong registry passwords (Basic
// and token realm), a wrong AWS secret with a session token, a wrong
// attestation key password. Each run must not print a secret raw; TestMain
// then scans every output, log, ledger object and stored blob of the suite
// for them in every encoding.
func TestSecretsDoNotLeak(t *testing.T) {
	t.Parallel()
	w := newSecretsWorld(t)
	w.pushSigned("1.0.0", image{Version: "1.0.0"})
	w.pushSigned("root", image{Version: "1.0.0-root", User: "root"})

	w.expect(0, nil, "--verbose", "to", "test", "web:1.0.0", "--reason", "first")
	w.expect(0, nil, "--verbose", "--output", "json", "to", "prod", "web")
	w.expect(3, nil, "--verbose", "to", "test", "web:root")
	w.expect(3, nil, "--output", "json", "to", "test", "web:root")
	for _, args := range [][]string{{"history"}, {"history", "--output", "json"}, {"history", "--output", "csv"},
		{"current", "prod", "web"}, {"gates", "prod", "web"}, {"--output", "json", "gates", "prod", "web"},
		{"ledger", "verify"}, {"--output", "json", "ledger", "verify"}} {
		w.expect(0, nil, args...)
	}
	recs := w.history("web")
	if len(recs) != 4 {
		t.Fatalf("expected 4 records (test, prod, 2 rejected), got %d", len(recs))
	}
	for _, rec := range recs {
		w.expect(0, nil, "show", rec.ID)
		w.expect(0, nil, "--verbose", "--output", "json", "show", rec.ID)
	}

	w.pushSigned("1.0.1", image{Version: "1.0.1"})
	r := w.expect(1, w.wrongA, "--verbose", "to", "test", "web:1.0.1")
	if !unauthorizedRE.MatchString(r.Stderr) || !strings.Contains(r.Stderr, w.A.Host) {
		t.Errorf("a wrong password for %s should fail naming it and the 401:\n%s", w.A.Host, r)
	}
	w.expect(0, nil, "to", "test", "web:1.0.1")
	r = w.expect(1, w.wrongB, "--output", "json", "to", "prod", "web")
	if !unauthorizedRE.MatchString(r.Stdout) || !strings.Contains(r.Stdout, w.B.Host) {
		t.Errorf("a wrong password for the token realm of %s should fail naming it and the 401:\n%s", w.B.Host, r)
	}
	if r = w.promoteEnv(w.wrongKey, "--verbose", "to", "prod", "web"); r.Code == 0 {
		t.Errorf("a wrong attestation key password should fail the promotion:\n%s", r)
	}
	w.noRawSecret(r, w.wrongKey)
	w.expect(r.Code, w.wrongKey, "--output", "json", "to", "prod", "web")
	w.expect(1, w.wrongAWS, "--verbose", "history")
	w.expect(1, w.wrongAWS, "--output", "json", "to", "prod", "web")
	w.expect(1, w.wrongAWSToken, "--verbose", "ledger", "verify")
	w.expect(1, w.wrongAWSToken, "--output", "json", "to", "prod", "web")
	w.expect(0, nil, "--verbose", "to", "prod", "web")
	w.expect(0, nil, "--verbose", "ledger", "verify")
}
