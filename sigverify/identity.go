package sigverify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Identity is a keyless signer: the OIDC issuer that vouched for it, matched
// exactly, and a regular expression that must match the whole certificate
// subject (its SAN: an e-mail address or a workflow URI).
type Identity struct {
	Issuer  string
	Subject string
}

// String renders the identity as "subject (issuer)".
func (i Identity) String() string { return i.Subject + " (issuer " + i.Issuer + ")" }

// Validate reports what is wrong with i, if anything.
func (i Identity) Validate() error {
	_, err := i.certificateIdentity()
	return err
}

// certificateIdentity compiles i for sigstore-go, anchoring the subject
// pattern so that "acme/.+" cannot match "evil.example/acme/x".
func (i Identity) certificateIdentity() (verify.CertificateIdentity, error) {
	if strings.TrimSpace(i.Issuer) == "" {
		return verify.CertificateIdentity{}, errors.New("issuer is empty")
	}
	if strings.TrimSpace(i.Subject) == "" {
		return verify.CertificateIdentity{}, errors.New("subject is empty")
	}
	if _, err := regexp.Compile(i.Subject); err != nil {
		return verify.CertificateIdentity{}, fmt.Errorf("subject %q is not a regular expression: %w", i.Subject, err)
	}
	return verify.NewShortCertificateIdentity(i.Issuer, "", "", "^(?:"+i.Subject+")$")
}

// ParseTrustedRoot parses a sigstore trusted_root.json (the pinned trust
// for keyless signatures: Fulcio CAs, Rekor logs, CT logs, TSAs). It
// refuses a root that could not verify any keyless signature: one without a
// certificate authority, or with neither a transparency log nor a
// timestamp authority to establish when a short-lived certificate signed.
func ParseTrustedRoot(name string, raw []byte) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a sigstore trusted root: %w", name, err)
	}
	if err := checkTrustedMaterial(tr); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return tr, nil
}

func checkTrustedMaterial(tm root.TrustedMaterial) error {
	if len(tm.FulcioCertificateAuthorities()) == 0 {
		return errors.New("no certificate authority: it cannot verify keyless signatures")
	}
	if len(tm.RekorLogs()) == 0 && len(tm.TimestampingAuthorities()) == 0 {
		return errors.New("neither a transparency log nor a timestamp authority: the time of a keyless signature cannot be established")
	}
	return nil
}

// keylessOptions are the sigstore-go verifier options for tm, as cosign
// sets them when it verifies against a trusted root: a transparency log
// entry when tm has a log, an SCT in the certificate when it has a CT log,
// and at least one observer timestamp (log integrated time or RFC 3161)
// at which the certificate chain must be valid.
func keylessOptions(tm root.TrustedMaterial) []verify.VerifierOption {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
	if len(tm.RekorLogs()) > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	if len(tm.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return opts
}
