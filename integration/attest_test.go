//go:build integration

package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote/attest"
	promoteregistry "github.com/promote-dev/promote/promote/registry"
)

// attestRegistry adds PutBlob to the registry client for this test.
// TODO(lead): drop it once promote/registry.Client has PutBlob.
type attestRegistry struct{ *promoteregistry.Client }

func (r attestRegistry) PutBlob(ctx context.Context, repo name.Repository, mt types.MediaType, data []byte) (v1.Descriptor, error) {
	l := static.NewLayer(data, mt)
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := remote.WriteLayer(repo, l, remote.WithContext(ctx)); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, nil
}

// attachPromotion signs a promotion of repo@digest into env with the key at
// keyPath (its password in PROMOTE_ATTEST_KEY_PASSWORD) and attaches it.
func (p *pipeline) attachPromotion(reg attestRegistry, keyPath, env, repoName, digest string) v1.Hash {
	p.t.Helper()
	s, err := attest.LoadSigner(keyPath, "")
	if err != nil {
		p.t.Fatalf("loading %s: %v", keyPath, err)
	}
	repo, err := reg.Repository(repoName)
	if err != nil {
		p.t.Fatalf("%v", err)
	}
	st, err := attest.BuildStatement(attest.Promotion{
		Environment: env, From: "test", App: "web",
		SourceGiven: "web:1.0.0", SourceResolved: repoName + "@" + digest,
		Repository: repo.Name(), Tags: []string{"1.0.0"}, Digest: digest,
		Gates:  []verdict.Result{{Name: "labels", Verdict: "pass", Reason: "all 3 required labels present", Evidence: map[string]any{"platforms": 1}}},
		Record: attest.RecordRef{ID: "rec-" + env, Seq: 1, Hash: "sha256:" + strings.Repeat("5", 64)},
		Actor:  attest.Actor{Identity: "ci@example", User: "ci", Host: "runner"},
		Time:   time.Now(),
	})
	if err != nil {
		p.t.Fatalf("building the statement: %v", err)
	}
	ref, err := s.Attest(context.Background(), reg, repo, st)
	if err != nil {
		p.t.Fatalf("attaching the attestation to %s@%s: %v", repoName, digest, err)
	}
	return ref
}

// verifyAttestation runs `cosign verify-attestation` (v3, or v2 when v2 is
// set) for the promotion predicate; extra flags are appended.
func (p *pipeline) verifyAttestation(v2 bool, pub, ref string, extra ...string) (string, int) {
	args := append([]string{"verify-attestation", "--key", pub, "--type", attest.PredicateType,
		"--insecure-ignore-tlog", "--allow-http-registry"}, extra...)
	if v2 {
		// cosign v2 verifies a bundle only with a trusted root at hand; it
		// is read, not used, for a key signature without a log entry.
		args = append(args, "--trusted-root", filepath.Join(signedRepoRoot(p.t), "testdata", "signed", "trusted_root.json"))
	}
	args = append(args, ref)
	var out, errOut string
	var code int
	if v2 {
		out, errOut, code = p.cosign(args...)
	} else {
		out, errOut, code = p.cosign3(args...)
	}
	return out + errOut, code
}

// The real cosign CLI (v3.1.3 and v2.6.5) accepts the promotion attestation
// promote attaches, signed with keys cosign generated (empty password, and
// a password), on the real distribution registry (no referrers API: the
// tag schema); the CUE policy of docs/admission.md admits the prod
// promotion and refuses the test one; another key is refused.
func TestAttestVerifiedByCosign(t *testing.T) {
	p := newPipeline(t)
	key, pub := p.namedKeyPair("promote") // cosign v2, empty password
	_, strangerPub := p.namedKeyPair("stranger")
	pwKey, pwPub := filepath.Join(p.dir, "promote-pw.key"), filepath.Join(p.dir, "promote-pw.pub")
	out, errOut, code := run(context.Background(), p.dir, append(toolEnv(p.home), "COSIGN_PASSWORD=s3cret"), p.cosign3Path(),
		"generate-key-pair", "--output-key-prefix", "promote-pw")
	if code != 0 {
		t.Fatalf("cosign3 generate-key-pair: exit %d\n%s%s", code, out, errOut)
	}

	client, err := promoteregistry.New(promoteregistry.Options{Insecure: []string{p.A.Host, p.B.Host}})
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	reg := attestRegistry{client}
	prod, test := p.repo("prod", "web"), p.repo("test", "web")
	prodDigest := p.pushImage(prod+":1.0.0", image{})
	testDigest := p.pushImage(test+":1.0.0", image{})

	t.Setenv(attest.DefaultPasswordEnv, "")
	ref := p.attachPromotion(reg, key, "prod", prod, prodDigest)
	p.attachPromotion(reg, key, "test", test, testDigest)
	if refs := p.bundleReferrers(prod, prodDigest); len(refs) != 1 || refs[0] != ref.String() {
		t.Fatalf("the referrers tag of %s should list %s, lists %v", prodDigest, ref, refs)
	}

	cue := filepath.Join(signedRepoRoot(t), "testdata", "attest", "policy", "prod.cue")
	for _, v2 := range []bool{false, true} {
		name := map[bool]string{false: "cosign3", true: "cosign"}[v2]
		got, code := p.verifyAttestation(v2, pub, prod+"@"+prodDigest)
		if code != 0 {
			t.Fatalf("%s verify-attestation refused the prod attestation: exit %d\n%s", name, code, got)
		}
		if env := predicateEnvironment(t, got); env != "prod" {
			t.Errorf("%s printed a statement with environment %q, expected prod:\n%s", name, env, got)
		}
		if got, code := p.verifyAttestation(v2, pub, prod+"@"+prodDigest, "--policy", cue); code != 0 {
			t.Errorf("%s: the prod CUE policy should admit the prod promotion: exit %d\n%s", name, code, got)
		}
		if got, code := p.verifyAttestation(v2, pub, test+"@"+testDigest); code != 0 {
			t.Fatalf("%s verify-attestation refused the test attestation: exit %d\n%s", name, code, got)
		}
		if got, code := p.verifyAttestation(v2, pub, test+"@"+testDigest, "--policy", cue); code == 0 || !strings.Contains(got, "validation errors occurred") {
			t.Errorf("%s: the prod CUE policy should refuse a test promotion (exit %d):\n%s", name, code, got)
		}
		if got, code := p.verifyAttestation(v2, strangerPub, prod+"@"+prodDigest); code == 0 || !strings.Contains(got, "no matching attestations") {
			t.Errorf("%s: another key should not verify the attestation:\n%s", name, got)
		}
	}

	t.Setenv(attest.DefaultPasswordEnv, "s3cret")
	otherDigest := p.pushImage(prod+":1.0.1", image{Version: "1.0.1"})
	p.attachPromotion(reg, pwKey, "prod", prod, otherDigest)
	if got, code := p.verifyAttestation(false, pwPub, prod+"@"+otherDigest); code != 0 {
		t.Fatalf("cosign3 refused the attestation signed with a password-protected cosign3 key: exit %d\n%s", code, got)
	}
}

// predicateEnvironment decodes the DSSE envelopes cosign prints for
// verified attestations and returns the promotion predicate's environment.
func predicateEnvironment(t *testing.T, out string) string {
	t.Helper()
	p, ok := cosignPredicate(t, out, attest.PredicateType)
	if !ok {
		t.Fatalf("no promotion statement in cosign's output:\n%s", out)
	}
	return p["environment"]
}

// cosignPredicate decodes the DSSE envelopes cosign verify-attestation
// prints, one a line, and returns the string fields of the first
// statement's predicate of predicateType.
func cosignPredicate(t *testing.T, out, predicateType string) (map[string]string, bool) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var env struct {
			Payload string `json:"payload"`
		}
		if json.Unmarshal([]byte(line), &env) != nil || env.Payload == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatalf("cosign printed a payload that is not base64: %v", err)
		}
		var st struct {
			PredicateType string         `json:"predicateType"`
			Predicate     map[string]any `json:"predicate"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatalf("cosign printed a payload that is not a statement: %v\n%s", err, raw)
		}
		if st.PredicateType != predicateType {
			continue
		}
		fields := map[string]string{}
		for k, v := range st.Predicate {
			if s, ok := v.(string); ok {
				fields[k] = s
			}
		}
		return fields, true
	}
	return nil, false
}
