package gates

import (
	"context"
	"fmt"
	"strings"

	"github.com/promote-dev/promote/gates/vuln"
	"github.com/promote-dev/promote/sigverify"
)

// attestationSource reads the cosign vulnerability attestations attached to
// the subject digest whose signatures verify with v. Each verified
// statement names the subject digest, so its report is bound to the whole
// image (a scanner result inside that names one platform's config binds to
// that platform only). None verified is a finding of the gate, saying why.
func attestationSource(ctx context.Context, v *SignatureVerifier, s *Subject) (sourceFindings, error) {
	sf := sourceFindings{source: SourceAttestation}
	stmts, rejected, err := v.Attestations(ctx, s, sigverify.VulnPredicateType)
	if err != nil {
		return sf, err
	}
	if len(stmts) == 0 {
		sf.missing = fmt.Sprintf("no verified vulnerability attestation (%s) attached to %s", sigverify.VulnPredicateType, s.Digest)
		if len(rejected) > 0 {
			var why []string
			for _, r := range rejected {
				why = append(why, r.String())
			}
			sf.missing += "; refused: " + strings.Join(why, "; ")
		}
		return sf, nil
	}
	for _, st := range stmts {
		r, err := vuln.ParseCosignVulnPredicate(st.Predicate)
		if err != nil {
			return sf, fmt.Errorf("vulnerability attestation %s: %w", st.Manifest, err)
		}
		r.Digests = append([]vuln.Digest{{Value: s.Digest.String(), Kind: vuln.ManifestDigest, Field: "attestation subject"}}, r.Digests...)
		name := fmt.Sprintf("attestation %s (%s, signed by %s)", sigverify.Short(st.Manifest.String()), st.Format, st.Signer)
		sf.reports = append(sf.reports, namedReport{name: name, report: r})
	}
	return sf, nil
}
