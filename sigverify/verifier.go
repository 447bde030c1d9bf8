// Package sigverify verifies cosign signatures and attestations offline,
// with sigstore-go, as cosign v3 does: cosign's legacy simple-signing
// payloads and DSSE envelopes (the sha256-<hex>.sig and .att tags), and
// sigstore bundles attached as OCI 1.1 referrers. All trust is passed in
// (public keys, keyless identities with a pinned trusted root); nothing
// here reads a registry or the network: the caller fetches the bytes.
//
// Every function binds what it verifies to the digest it is given: a
// signature or statement that names another digest is rejected.
package sigverify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Formats, as evidence names them.
const (
	FormatLegacy = "cosign-legacy"   // sha256-<hex>.sig / .att tag manifests
	FormatBundle = "sigstore-bundle" // application/vnd.dev.sigstore.bundle.v0.3+json referrers
)

// Signer says who made a signature that verified: a configured key, or a
// keyless certificate whose identity matched.
type Signer struct {
	Key *Key // nil for keyless
	// Issuer and Subject are the certificate's OIDC issuer and SAN (keyless).
	Issuer, Subject string
}

// String names the signer: "keys/release.pub" or "SUBJECT (issuer ISSUER)".
func (s Signer) String() string {
	if s.Key != nil {
		return s.Key.Name
	}
	return s.Subject + " (issuer " + s.Issuer + ")"
}

// Verifier holds the trust: keys, any of which may sign, and keyless
// identities checked against a trusted root. It is safe for concurrent use.
type Verifier struct {
	keys    []keyVerifier
	keyless *verify.Verifier
	ids     []verify.PolicyOption
}

type keyVerifier struct {
	key *Key
	v   *verify.Verifier
}

type config struct {
	keys       []*Key
	identities []Identity
	trust      root.TrustedMaterial
}

// Option configures a Verifier.
type Option func(*config) error

// WithKeys trusts signatures made by any of keys. A key signature carries no
// trusted time and no transparency log entry is required: sigstore-go is
// told so explicitly (verify.WithNoObserverTimestamps), as cosign does for
// `verify --key` without a log.
func WithKeys(keys ...*Key) Option {
	return func(c *config) error {
		for _, k := range keys {
			if k == nil {
				return errors.New("nil key")
			}
		}
		c.keys = append(c.keys, keys...)
		return nil
	}
}

// WithIdentities trusts keyless signatures whose certificate chains to tm
// (a pinned trusted root) and matches one of ids.
func WithIdentities(tm root.TrustedMaterial, ids ...Identity) Option {
	return func(c *config) error {
		if tm == nil {
			return errors.New("identities need a trusted root")
		}
		if len(ids) == 0 {
			return errors.New("a trusted root without identities trusts nobody")
		}
		if err := checkTrustedMaterial(tm); err != nil {
			return err
		}
		c.trust = tm
		c.identities = append(c.identities, ids...)
		return nil
	}
}

// New builds a Verifier; it needs at least one key or identity.
func New(opts ...Option) (*Verifier, error) {
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if len(c.keys) == 0 && len(c.identities) == 0 {
		return nil, errors.New("no keys and no identities: nothing could verify")
	}
	v := &Verifier{}
	for _, k := range c.keys {
		tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return k.verifier, nil })
		sv, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.Name, err)
		}
		v.keys = append(v.keys, keyVerifier{key: k, v: sv})
	}
	if len(c.identities) > 0 {
		sv, err := verify.NewVerifier(c.trust, keylessOptions(c.trust)...)
		if err != nil {
			return nil, fmt.Errorf("trusted root: %w", err)
		}
		v.keyless = sv
		for i, id := range c.identities {
			ci, err := id.certificateIdentity()
			if err != nil {
				return nil, fmt.Errorf("identity %d: %w", i, err)
			}
			v.ids = append(v.ids, verify.WithCertificateIdentity(ci))
		}
	}
	return v, nil
}

// Keys lists the trusted keys.
func (v *Verifier) Keys() []*Key {
	out := make([]*Key, len(v.keys))
	for i, k := range v.keys {
		out[i] = k.key
	}
	return out
}

// entities is one signature as sigstore-go sees it: keyed, when it is to be
// checked against the keys; certified, when it carries a certificate to be
// checked against the identities. Either may be nil.
type entities struct {
	keyed, certified verify.SignedEntity
}

// check verifies e's cryptography and trust (not what it signs: callers
// bind). artifact returns a fresh artifact policy per attempt.
func (v *Verifier) check(e entities, artifact func() verify.ArtifactPolicyOption) (Signer, *verify.VerificationResult, error) {
	var keylessErr error
	if e.keyed != nil && len(v.keys) > 0 {
		for _, k := range v.keys {
			res, err := k.v.Verify(e.keyed, verify.NewPolicy(artifact(), verify.WithKey()))
			if err == nil {
				return Signer{Key: k.key}, res, nil
			}
		}
	}
	if e.certified != nil && v.keyless != nil {
		res, err := v.keyless.Verify(e.certified, verify.NewPolicy(artifact(), v.ids...))
		if err == nil {
			s := Signer{}
			if c := res.Signature.Certificate; c != nil {
				s.Issuer, s.Subject = c.Issuer, c.SubjectAlternativeName
			}
			return s, res, nil
		}
		keylessErr = keylessFailure(err, e.certified)
	}
	switch {
	case e.keyed != nil && len(v.keys) > 0 && keylessErr != nil:
		return Signer{}, nil, fmt.Errorf("signature does not verify with any key; keyless: %w", keylessErr)
	case e.keyed != nil && len(v.keys) > 0:
		return Signer{}, nil, errors.New("signature does not verify with any key")
	case keylessErr != nil:
		return Signer{}, nil, keylessErr
	case e.certified != nil:
		return Signer{}, nil, errors.New("keyless signature (certificate), but no identities are trusted")
	default:
		return Signer{}, nil, errors.New("signed with a key, but no keys are trusted (only keyless identities)")
	}
}

// keylessFailure shortens sigstore-go's account of a keyless failure,
// naming the certificate's identity when that is what did not match.
func keylessFailure(err error, e verify.SignedEntity) error {
	var noMatch *verify.ErrNoMatchingCertificateIdentity
	if errors.As(err, &noMatch) {
		if s, ok := certSummary(e); ok {
			return fmt.Errorf("certificate identity %s (issuer %s) matches no trusted identity", s.SubjectAlternativeName, s.Issuer)
		}
		return errors.New("certificate identity matches no trusted identity")
	}
	msg := err.Error()
	for _, p := range []string{"failed to verify signature: ", "failed to verify log inclusion: ", "failed to verify timestamps: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return fmt.Errorf("certificate does not verify: %s", msg)
}
