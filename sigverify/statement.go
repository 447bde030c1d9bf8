package sigverify

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Predicate types this package knows by name.
const (
	// SignPredicateType is what `cosign sign` (v2 --new-bundle-format, v3)
	// puts in the in-toto statement of a signature bundle. Only it makes a
	// bundle a signature; every other predicate is an attestation.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// VulnPredicateType is cosign's vulnerability scan attestation
	// (`cosign attest --type vuln`).
	VulnPredicateType = "https://cosign.sigstore.dev/attestation/vuln/v1"
)

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Statement is an in-toto statement whose signature verified and whose
// subject names the digest it was verified for.
type Statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []StatementSubj `json:"subject"`
	// Predicate is the predicate as signed, byte for byte.
	Predicate json.RawMessage `json:"predicate,omitempty"`
}

// StatementSubj is one subject of a Statement.
type StatementSubj struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// parseStatement decodes a DSSE payload as an in-toto statement.
func parseStatement(payload []byte) (*Statement, error) {
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("payload is not an in-toto statement: %v", err)
	}
	if !strings.HasPrefix(st.Type, "https://in-toto.io/Statement/") {
		return nil, fmt.Errorf("payload is not an in-toto statement (_type %q)", st.Type)
	}
	if st.PredicateType == "" {
		return nil, errors.New("in-toto statement has no predicateType")
	}
	return &st, nil
}

// Names reports whether the statement's subjects include d.
func (s *Statement) Names(d v1.Hash) bool {
	for _, sub := range s.Subject {
		if strings.EqualFold(sub.Digest[d.Algorithm], d.Hex) {
			return true
		}
	}
	return false
}

// named lists the digests the statement's subjects name, for a reason.
func (s *Statement) named() string {
	var out []string
	for _, sub := range s.Subject {
		for alg, hex := range sub.Digest {
			out = append(out, Short(alg+":"+hex))
		}
	}
	if len(out) == 0 {
		return "no digest"
	}
	return strings.Join(out, ", ")
}

// Short abbreviates a digest for a one-line reason: sha256:0123456789ab….
func Short(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12] + "…"
}

// certSummary summarises the leaf certificate of e, if it has one.
func certSummary(e verify.SignedEntity) (certificate.Summary, bool) {
	vc, err := e.VerificationContent()
	if err != nil {
		return certificate.Summary{}, false
	}
	var leaf *x509.Certificate
	if leaf = vc.Certificate(); leaf == nil {
		return certificate.Summary{}, false
	}
	s, err := certificate.SummarizeCertificate(leaf)
	return s, err == nil
}
