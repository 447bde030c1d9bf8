package gates

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/gates/verdict"
	"github.com/promote-dev/promote/sigverify"
)

// sigFormatNames are the formats as a reason says them.
var sigFormatNames = map[string]string{
	sigverify.FormatLegacy: "cosign legacy signature",
	sigverify.FormatBundle: "sigstore bundle",
}

// verifySignature verifies one candidate as a signature of digest.
func verifySignature(v *sigverify.Verifier, digest v1.Hash, c sigCandidate) (sigverify.Result, error) {
	if c.Refused != "" {
		return sigverify.Result{}, errors.New(c.Refused)
	}
	if c.Format == sigverify.FormatBundle {
		return v.VerifySignatureBundle(c.Blob, digest)
	}
	return v.VerifyLegacySignature(sigverify.Layer{Blob: c.Blob, Annotations: c.Annotations}, digest)
}

// judgeSignatures decides the signed gate from the candidates read for
// digest: it passes when at least one verifies and binds. It does no I/O.
func judgeSignatures(v *sigverify.Verifier, digest v1.Hash, cands []sigCandidate, elsewhere int) Verdict {
	ev := map[string]any{"digest": digest.String(), "candidates": len(cands)}
	if elsewhere > 0 {
		ev["platformSignatures"] = elsewhere
	}
	if len(cands) == 0 {
		reason := "no signature attached to " + sigverify.Short(digest.String())
		if elsewhere > 0 {
			reason += fmt.Sprintf("; %d on platform images do not count: sign the index digest", elsewhere)
		}
		return Verdict{Name: SignedGate, Verdict: verdict.Fail, Reason: reason, Evidence: ev}
	}
	var (
		first    *sigCandidate
		res      sigverify.Result
		verified int
		rejected []map[string]string
		why      []string
	)
	for i := range cands {
		c := cands[i]
		r, err := verifySignature(v, digest, c)
		if err != nil {
			rj := map[string]string{"signature": c.Manifest.String(), "format": c.Format, "reason": err.Error()}
			if c.Layers > 1 {
				rj["layer"] = fmt.Sprint(c.Layer)
			}
			rejected = append(rejected, rj)
			why = append(why, c.name()+": "+err.Error())
			continue
		}
		verified++
		if first == nil {
			first, res = &cands[i], r
		}
	}
	if len(rejected) > 0 {
		ev["rejected"] = rejected
	}
	if first == nil {
		return Verdict{Name: SignedGate, Verdict: verdict.Fail, Evidence: ev,
			Reason: fmt.Sprintf("no valid signature: %d %s: %s", len(cands), sigPlural(len(cands), "candidate"), strings.Join(why, "; "))}
	}
	ev["verified"] = verified
	ev["format"] = res.Format
	ev["signature"] = first.Manifest.String()
	if k := res.Signer.Key; k != nil {
		ev["key"], ev["keyId"] = k.Name, k.ID
	} else {
		ev["issuer"], ev["subject"] = res.Signer.Issuer, res.Signer.Subject
	}
	return Verdict{Name: SignedGate, Verdict: verdict.Pass, Evidence: ev,
		Reason: fmt.Sprintf("signed by %s (%s %s)", res.Signer, sigFormatNames[res.Format], sigverify.Short(first.Manifest.String()))}
}

func sigPlural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
