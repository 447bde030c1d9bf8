//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promote-dev/promote/errs"
	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/promote"
	"github.com/promote-dev/promote/promote/config"
	"github.com/promote-dev/promote/promote/ledger"
	promoteregistry "github.com/promote-dev/promote/promote/registry"
	"github.com/promote-dev/promote/sigverify"
)

// signedVulnProbe is a gate registered in this test process only: it reads
// vulnerability attestations through gates.SignatureVerifier.Attestations,
// the API the scan gate uses, and reports them as its evidence.
const signedVulnProbe = "signedVulnProbe"

type vulnProbe struct{ v *gates.SignatureVerifier }

func init() {
	gates.Register(signedVulnProbe, func(s gates.Settings) (gates.Gate, error) {
		var c gates.SignedConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		v, err := gates.NewSignatureVerifier(c, s)
		if err != nil {
			return nil, err
		}
		return vulnProbe{v: v}, nil
	})
}

func (g vulnProbe) Evaluate(ctx context.Context, s *gates.Subject) (gates.Verdict, error) {
	sts, rejected, err := g.v.Attestations(ctx, s, sigverify.VulnPredicateType)
	if err != nil {
		return gates.Verdict{}, err
	}
	return gates.Verdict{Name: signedVulnProbe, Verdict: verdict.Of(len(sts) > 0), Reason: fmt.Sprintf("%d verified, %d rejected", len(sts), len(rejected)),
		Evidence: map[string]any{"statements": sts, "rejected": rejected}}, nil
}

// Vulnerability attestations made by `cosign attest --type vuln` (v2: a
// legacy .att tag; v3: a bundle referrer) come back verified, with their
// predicate, from the Subject the real engine builds off a real registry;
// one made with a key the configuration does not trust is rejected.
func TestSignedAttestationsFromCosign(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	key, pub := p.namedKeyPair("release")
	strangerKey, _ := p.namedKeyPair("stranger")

	dir := filepath.Join(p.dir, "attest-config")
	b, err := os.ReadFile(pub)
	if err != nil {
		t.Fatalf("reading %s: %v", pub, err)
	}
	signedWriteFile(t, filepath.Join(dir, "keys", "release.pub"), string(b))
	cfgPath := p.writeConfig(filepath.Join(dir, "environments.yaml"), []string{signedVulnProbe + ": {keys: [keys/release.pub]}"}, nil)

	type want struct {
		format   string
		manifest string
	}
	wants := map[string]want{}
	for app, how := range map[string]string{"legacyatt": "v2", "bundleatt": "v3", "strangeratt": "stranger"} {
		dev := p.repo("dev", app)
		d := p.pushImage(dev+":1.0.0", image{})
		switch how {
		case "v2":
			p.attestVuln(false, key, dev, d)
			wants[app] = want{sigverify.FormatLegacy, p.digest(dev + ":" + strings.Replace(d, ":", "-", 1) + ".att")}
		case "v3":
			p.attestVuln(true, key, dev, d)
			refs := p.bundleReferrers(dev, d)
			if len(refs) != 1 {
				t.Fatalf("expected one bundle referrer of %s, found %v", d, refs)
			}
			wants[app] = want{sigverify.FormatBundle, refs[0]}
		default:
			p.attestVuln(false, strangerKey, dev, d)
		}
	}

	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("loading %s: %v", cfgPath, err)
	}
	led, err := ledger.Open(ctx, cfg.Ledger)
	if err != nil {
		t.Fatalf("opening the ledger: %v", err)
	}
	defer led.Close()
	reg, err := promoteregistry.New(promoteregistry.Options{Insecure: []string{p.A.Host}})
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	eng, err := promote.New(cfg, reg, led)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}

	for app, w := range wants {
		ev, err := eng.Evaluate(ctx, "test", promote.Ref{App: app, Tag: "1.0.0"}, nil)
		if err != nil {
			t.Fatalf("%s: evaluating: %v", app, err)
		}
		sts, _ := ev.Gates[0].Evidence["statements"].([]gates.Statement)
		if len(sts) != 1 {
			t.Fatalf("%s: expected one verified vulnerability attestation, got %s: %+v", app, ev.Gates[0].Reason, ev.Gates[0].Evidence)
		}
		st := sts[0]
		if st.PredicateType != sigverify.VulnPredicateType || st.Format != w.format || st.Manifest.String() != w.manifest ||
			st.Signer != "keys/release.pub" || st.KeyID != signedKeyID(t, pub) {
			t.Errorf("%s: statement %+v, expected a %s vuln attestation from %s signed by keys/release.pub", app, st, w.format, w.manifest)
		}
		if !strings.Contains(string(st.Predicate), `"fakescanner.example.com/cosign-testing"`) || !strings.Contains(string(st.Predicate), `"scanFinishedOn":"2022-04-12T00:10:00Z"`) {
			t.Errorf("%s: the predicate should be cosign's vuln predicate as signed, got %s", app, st.Predicate)
		}
	}

	ev, err := eng.Evaluate(ctx, "test", promote.Ref{App: "strangeratt", Tag: "1.0.0"}, nil)
	if !errors.Is(err, errs.ErrGateRejected) {
		t.Fatalf("an attestation by an untrusted key should leave the probe failing, got %v", err)
	}
	rej, _ := ev.Gates[0].Evidence["rejected"].([]gates.Rejection)
	if len(rej) != 1 || rej[0].Reason != "signature does not verify with any key" || rej[0].Format != sigverify.FormatLegacy {
		t.Errorf("the stranger's attestation should be rejected for its key, got %+v", rej)
	}
}
