package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/promote-dev/promote/gates/verdict"
)

// PredicateType names (and versions) the promotion predicate. A change that
// removes or renames a field needs a new version; adding fields does not.
const PredicateType = "https://promote.dev/attestation/promotion/v1"

// StatementType is the in-toto statement version the attestation uses.
const StatementType = "https://in-toto.io/Statement/v1"

// Statement is an in-toto v1 statement about one promoted digest.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is the target repository's name and the promoted digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is the promotion as the ledger recorded it. Admission policies
// match on its top-level fields (environment, app, digest).
type Predicate struct {
	Environment string           `json:"environment"`
	From        string           `json:"from,omitempty"`
	App         string           `json:"app"`
	Source      Source           `json:"source"`
	Target      Target           `json:"target"`
	Digest      string           `json:"digest"`
	Previous    string           `json:"previousDigest,omitempty"`
	Gates       []verdict.Result `json:"gates"`
	// Policies are the release policies' verdicts (window, soak,
	// approvals, a freeze passed by break-glass); absent when the
	// environment has none.
	Policies []verdict.Result `json:"policies,omitempty"`
	// BreakGlass is the justification given to pass a closed window or a
	// freeze: admission policies may refuse or flag such a promotion.
	BreakGlass string    `json:"breakGlass,omitempty"`
	Record     RecordRef `json:"record"`
	Actor      Actor     `json:"actor"`
	Time       time.Time `json:"time"`
	// Ledger is the record's place in the ledger's transparency log; absent
	// when the ledger has no key, so signs no checkpoint.
	Ledger *LedgerProof `json:"ledger,omitempty"`
	// Evidence is the evidence document (gates/evidence) the environment's
	// policy gates judged, byte for byte as the ledger record keeps it, so
	// a policy written for the gate runs at admission on
	// predicate.evidence; absent for a record made without one.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// Source is the source reference as given on the command line and as
// resolved (repository@digest).
type Source struct {
	Given    string `json:"given"`
	Resolved string `json:"resolved"`
}

// Target is where the digest was promoted: repository@digest and the tags
// written there.
type Target struct {
	Repository string   `json:"repository"`
	Reference  string   `json:"reference"`
	Tags       []string `json:"tags,omitempty"`
}

// RecordRef names the ledger record of the promotion; Hash covers it and,
// through its chain, every record before it.
type RecordRef struct {
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Actor says who promoted, and how each identity was established: "aws-sts"
// (AWS STS named the credentials that wrote: authenticated), "ci-env" (the
// CI system's environment variables) or "os-user" (the operating system's
// account and host), the last two only asserted. Admission policies should
// rely on aws with awsVia "aws-sts" alone.
type Actor struct {
	Identity    string `json:"identity,omitempty"`
	IdentityVia string `json:"identityVia,omitempty"`
	User        string `json:"user,omitempty"`
	UserVia     string `json:"userVia,omitempty"`
	Host        string `json:"host,omitempty"`
	AWS         string `json:"aws,omitempty"`
	AWSVia      string `json:"awsVia,omitempty"`
}

// Promotion is what BuildStatement needs, as plain values: the caller maps
// the engine's result and ledger record onto it. Gate evidence is passed
// whole and summarised here.
type Promotion struct {
	Environment, From, App string
	SourceGiven            string
	SourceResolved         string
	Repository             string // the target repository, e.g. registry.example/prod/app
	Tags                   []string
	Digest                 string // sha256:<hex>
	Previous               string
	Gates                  []verdict.Result
	Policies               []verdict.Result
	BreakGlass             string
	Record                 RecordRef
	Actor                  Actor
	Time                   time.Time
	Ledger                 *LedgerProof // nil: the ledger signs no checkpoint
	Evidence               json.RawMessage
}

// BuildStatement makes the statement for p. It is pure: the same promotion
// always gives the same statement. It refuses a promotion that lacks what
// an auditor needs (environment, app, repository, a sha256 digest, the
// ledger record's ID and hash, a time), and a ledger proof that cannot be
// one; it does not check the proof's hashes or signature (the engine's
// ledger.Prove did, and a reader checks them with the ledger's key).
func BuildStatement(p Promotion) (Statement, error) {
	d, err := v1.NewHash(p.Digest)
	if err != nil || d.Algorithm != "sha256" {
		return Statement{}, fmt.Errorf("attestation: digest %q is not a sha256 digest", p.Digest)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"environment", p.Environment}, {"app", p.App}, {"repository", p.Repository},
		{"record id", p.Record.ID}, {"record hash", p.Record.Hash},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if p.Time.IsZero() {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return Statement{}, errors.New("attestation: the promotion lacks " + strings.Join(missing, ", "))
	}
	if len(p.Evidence) > 0 && !json.Valid(p.Evidence) {
		return Statement{}, errors.New("attestation: the evidence document is not JSON")
	}
	if p.Ledger != nil {
		if err := p.Ledger.check(); err != nil {
			return Statement{}, err
		}
	}
	gates := summarized(p.Gates)
	if gates == nil {
		gates = []verdict.Result{} // "gates": [], never null
	}
	return Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: p.Repository, Digest: map[string]string{d.Algorithm: d.Hex}}},
		PredicateType: PredicateType,
		Predicate: Predicate{
			Environment: p.Environment, From: p.From, App: p.App,
			Source:     Source{Given: p.SourceGiven, Resolved: p.SourceResolved},
			Target:     Target{Repository: p.Repository, Reference: p.Repository + "@" + d.String(), Tags: append([]string(nil), p.Tags...)},
			Digest:     d.String(),
			Previous:   p.Previous,
			Gates:      gates,
			Policies:   summarized(p.Policies),
			BreakGlass: clip(p.BreakGlass, maxReason),
			Record:     p.Record,
			Actor:      p.Actor,
			Time:       p.Time.UTC(),
			Ledger:     p.Ledger.clone(),
			Evidence:   append(json.RawMessage(nil), p.Evidence...),
		},
	}, nil
}

// summarized is verdicts with their reasons clipped and their evidence
// summarised; nil for none.
func summarized(vs []verdict.Result) []verdict.Result {
	if len(vs) == 0 {
		return nil
	}
	out := make([]verdict.Result, len(vs))
	for i, v := range vs {
		out[i] = verdict.Result{Name: v.Name, Verdict: v.Verdict, Reason: clip(v.Reason, maxReason), Evidence: Summarize(v.Evidence)}
	}
	return out
}

// Digest is the hash the statement's subject names.
func (s Statement) Digest() (v1.Hash, error) { return subjectDigest(s.Subject) }

// subjectDigest is the one sha256 digest subjects name.
func subjectDigest(subjects []Subject) (v1.Hash, error) {
	if len(subjects) != 1 || subjects[0].Digest["sha256"] == "" {
		return v1.Hash{}, errors.New("attestation: the statement must name exactly one sha256 subject")
	}
	return v1.Hash{Algorithm: "sha256", Hex: subjects[0].Digest["sha256"]}, nil
}

// The statement interface of Sign and Attest (bundle.go, attest.go).
func (s Statement) subjectName() string   { return s.Subject[0].Name }
func (s Statement) predicateType() string { return PredicateType }

// annotations are the referrer manifest's: cosign v3's, and the
// environment and record hash that Attached finds a record's by.
func (s Statement) annotations() map[string]string {
	return map[string]string{
		AnnotationCreated:       s.Predicate.Time.UTC().Format("2006-01-02T15:04:05Z"),
		AnnotationContent:       "dsse-envelope",
		AnnotationPredicateType: PredicateType,
		AnnotationEnvironment:   s.Predicate.Environment,
		AnnotationRecordHash:    s.Predicate.Record.Hash,
	}
}

// Payload is the statement as signed: its JSON encoding.
func (s Statement) Payload() ([]byte, error) {
	if s.Type != StatementType || s.PredicateType != PredicateType {
		return nil, fmt.Errorf("attestation: not a promotion statement (%q, %q); build it with BuildStatement", s.Type, s.PredicateType)
	}
	if _, err := s.Digest(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}
