package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ApprovalPredicateType names (and versions) the approval predicate: a
// person's signed agreement that a digest may enter an environment. The
// approvals phase of a promotion counts these; cosign makes them too
// (`cosign attest --type` this URL `--predicate` a file of an
// ApprovalPredicate).
const ApprovalPredicateType = "https://promote.dev/attestation/approval/v1"

// AnnotationApprover notes, unsigned, who an approval referrer is from.
const AnnotationApprover = "dev.promote.approver"

// ApprovalPredicate is what an approver signs. Environment binds the
// approval to one environment, the statement's subject to one digest; Time
// is when it was given, which an environment's approvals.expires counts
// from. Approver and Reason are what the approver says: the signature, not
// the name, is what is counted.
type ApprovalPredicate struct {
	Environment string    `json:"environment"`
	App         string    `json:"app,omitempty"`
	Approver    string    `json:"approver"`
	Reason      string    `json:"reason"`
	Time        time.Time `json:"time"`
}

// ApprovalStatement is an in-toto v1 statement approving one digest.
type ApprovalStatement struct {
	Type          string            `json:"_type"`
	Subject       []Subject         `json:"subject"`
	PredicateType string            `json:"predicateType"`
	Predicate     ApprovalPredicate `json:"predicate"`
}

// Approval is what BuildApproval needs.
type Approval struct {
	Environment, App, Approver, Reason string
	Repository                         string // the repository the digest is approved in (the hop's source)
	Digest                             string // sha256:<hex>
	Time                               time.Time
}

// BuildApproval makes the statement of a. It is pure. It refuses an
// approval without an environment, a repository, an approver, a reason, a
// time or a sha256 digest. The time is kept to the second, in UTC, as RFC
// 3339 writes it.
func BuildApproval(a Approval) (ApprovalStatement, error) {
	d, err := v1.NewHash(a.Digest)
	if err != nil || d.Algorithm != "sha256" {
		return ApprovalStatement{}, fmt.Errorf("approval: digest %q is not a sha256 digest", a.Digest)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"environment", a.Environment}, {"repository", a.Repository}, {"approver", a.Approver}, {"reason", a.Reason},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if a.Time.IsZero() {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return ApprovalStatement{}, errors.New("approval: it lacks " + strings.Join(missing, ", "))
	}
	return ApprovalStatement{
		Type:          StatementType,
		Subject:       []Subject{{Name: a.Repository, Digest: map[string]string{d.Algorithm: d.Hex}}},
		PredicateType: ApprovalPredicateType,
		Predicate: ApprovalPredicate{Environment: a.Environment, App: a.App, Approver: a.Approver, Reason: a.Reason,
			Time: a.Time.UTC().Truncate(time.Second)},
	}, nil
}

// Digest is the hash the statement's subject names.
func (s ApprovalStatement) Digest() (v1.Hash, error) { return subjectDigest(s.Subject) }

// Payload is the statement as signed: its JSON encoding.
func (s ApprovalStatement) Payload() ([]byte, error) {
	if s.Type != StatementType || s.PredicateType != ApprovalPredicateType {
		return nil, fmt.Errorf("approval: not an approval statement (%q, %q); build it with BuildApproval", s.Type, s.PredicateType)
	}
	if _, err := s.Digest(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

func (s ApprovalStatement) subjectName() string   { return s.Subject[0].Name }
func (s ApprovalStatement) predicateType() string { return ApprovalPredicateType }

func (s ApprovalStatement) annotations() map[string]string {
	return map[string]string{
		AnnotationCreated:       s.Predicate.Time.UTC().Format("2006-01-02T15:04:05Z"),
		AnnotationContent:       "dsse-envelope",
		AnnotationPredicateType: ApprovalPredicateType,
		AnnotationEnvironment:   s.Predicate.Environment,
		AnnotationApprover:      s.Predicate.Approver,
	}
}

// SignApproval signs st into a sigstore bundle, as Sign does a promotion.
func (s *Signer) SignApproval(st ApprovalStatement) ([]byte, error) { return s.sign(st) }

// AttestApproval signs st and attaches it to its digest in repo as an OCI
// 1.1 referrer, as Attest does a promotion, and returns the referrer
// manifest's digest. st must name repo and the digest must be in repo.
func (s *Signer) AttestApproval(ctx context.Context, reg Registry, repo name.Repository, st ApprovalStatement) (v1.Hash, error) {
	return s.attach(ctx, reg, repo, st)
}
