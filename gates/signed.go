package gates

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/promote-dev/promote/sigverify"
)

// SignedConfig is the signed gate's configuration: who may sign. Gates that
// read signed attestations (scan) take the same block.
type SignedConfig struct {
	// Keys are PEM public key files, any of which may sign.
	Keys []string `yaml:"keys"`
	// Identities are keyless signers, checked against TrustedRoot.
	Identities []IdentityConfig `yaml:"identities"`
	// TrustedRoot is a pinned sigstore trusted_root.json (required with
	// identities); nothing is fetched from the network.
	TrustedRoot string `yaml:"trustedRoot"`
}

// IdentityConfig is one keyless signer: the OIDC issuer, exactly, and a
// regular expression the whole certificate subject must match.
type IdentityConfig struct {
	Issuer  string `yaml:"issuer"`
	Subject string `yaml:"subject"`
}

// SignedGate is the signed gate's kind name.
const SignedGate = "signed"

type signedGate struct{ v *SignatureVerifier }

func init() {
	Register(SignedGate, func(s Settings) (Gate, error) {
		var c SignedConfig
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		v, err := NewSignatureVerifier(c, s)
		if err != nil {
			return nil, err
		}
		return signedGate{v: v}, nil
	})
}

// SignatureVerifier verifies the signatures and attestations attached to a
// Subject against a SignedConfig's keys and identities, offline.
type SignatureVerifier struct {
	v *sigverify.Verifier
}

// NewSignatureVerifier loads c's key files and trusted root (paths resolved
// with s.Path) and validates it; an error names the field and file at fault.
func NewSignatureVerifier(c SignedConfig, s Settings) (*SignatureVerifier, error) {
	if len(c.Keys) == 0 && len(c.Identities) == 0 {
		return nil, errors.New("keys, identities: at least one key or keyless identity is required")
	}
	var opts []sigverify.Option
	var keys []*sigverify.Key
	for i, name := range c.Keys {
		raw, err := os.ReadFile(s.Path(name))
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: reading public key %s: %w", i, name, sigUnwrapPath(err))
		}
		k, err := sigverify.ParseKey(name, raw)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		opts = append(opts, sigverify.WithKeys(keys...))
	}
	switch {
	case len(c.Identities) > 0 && c.TrustedRoot == "":
		return nil, errors.New("trustedRoot: required with identities (a pinned sigstore trusted_root.json, e.g. from `cosign trusted-root create` or sigstore's TUF repository)")
	case len(c.Identities) == 0 && c.TrustedRoot != "":
		return nil, errors.New("trustedRoot: given without identities; it only serves keyless identities")
	case len(c.Identities) > 0:
		raw, err := os.ReadFile(s.Path(c.TrustedRoot))
		if err != nil {
			return nil, fmt.Errorf("trustedRoot: reading %s: %w", c.TrustedRoot, sigUnwrapPath(err))
		}
		tr, err := sigverify.ParseTrustedRoot(c.TrustedRoot, raw)
		if err != nil {
			return nil, fmt.Errorf("trustedRoot: %w", err)
		}
		ids := make([]sigverify.Identity, len(c.Identities))
		for i, id := range c.Identities {
			ids[i] = sigverify.Identity{Issuer: id.Issuer, Subject: id.Subject}
			if err := ids[i].Validate(); err != nil {
				return nil, fmt.Errorf("identities[%d]: %w", i, err)
			}
		}
		opts = append(opts, sigverify.WithIdentities(tr, ids...))
	}
	v, err := sigverify.New(opts...)
	if err != nil {
		return nil, err
	}
	return &SignatureVerifier{v: v}, nil
}

// Keys lists the trusted keys, each with its ID.
func (v *SignatureVerifier) Keys() []*sigverify.Key { return v.v.Keys() }

// sigUnwrapPath drops the resolved path from a file error: the message names
// the file as configured, which is what the user wrote.
func sigUnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Evaluate passes when at least one signature attached to the subject's own
// digest (the index digest of a multi-platform image) verifies with a
// trusted key or identity and signs that digest. Signatures attached only to
// platform images do not count. A registry failure while reading a
// signature is an error: the gate could not judge.
func (g signedGate) Evaluate(ctx context.Context, s *Subject) (Verdict, error) {
	cands, elsewhere, err := collectSignatures(ctx, s)
	if err != nil {
		return Verdict{}, err
	}
	return judgeSignatures(g.v.v, s.Digest, cands, elsewhere), nil
}
