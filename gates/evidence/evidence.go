// Package evidence is the evidence document: everything promote knows
// about one promotion when its policy gates judge it, in one versioned
// JSON shape. The policy gate evaluates Rego against it (its input), the
// ledger record of the promotion keeps it, and the promotion attestation's
// predicate carries it (predicate.evidence), so a policy written for the
// gate can run at admission on the same document. It depends on nothing.
package evidence

import "time"

// MediaType names and versions the document. A change that removes or
// renames a field needs a new version; adding fields does not.
const MediaType = "application/vnd.promote.evidence.v1+json"

// Document is the evidence of one promotion (or one `promote gates` run)
// as judged: every list is present (empty, never null) so a policy can
// iterate without guarding.
type Document struct {
	MediaType   string `json:"mediaType"`
	Environment string `json:"environment"`
	// From is the environment the digest comes from; empty for the first
	// environment, fed from the mutable dev repository.
	From string `json:"from"`
	App  string `json:"app"`
	// Repository is the target repository (without tag or digest).
	Repository string `json:"repository"`
	Source     Source `json:"source"`
	Digest     string `json:"digest"`
	// Kind is "image" (one manifest) or "index" (a multi-platform index).
	Kind string `json:"kind"`
	// Tags are the tags the promotion writes in the target repository.
	Tags      []string   `json:"tags"`
	Platforms []Platform `json:"platforms"`
	// Attachments are the signatures, attestations and SBOMs found attached
	// to the digest or its platform images, as found: not verified.
	// Verified signatures are in the signed gate's evidence.
	Attachments []Attachment `json:"attachments"`
	// Gates are the verdicts of every gate judged before the policy gates,
	// in configuration order, with their full evidence: the base gate's
	// proof, the signed gate's signers, the scan gate's counts.
	Gates []Verdict `json:"gates"`
	// Policies are the release policies' verdicts (revocation, freeze,
	// window, soak, approvals) checked before the gates; empty for
	// `promote gates`, which checks none.
	Policies []Verdict `json:"policies"`
	// History is every ledger record of this app naming this digest, in
	// any environment, oldest first: where the digest has been.
	History []Entry `json:"history"`
	// Time is when the gates judged.
	Time time.Time `json:"time"`
}

// Source is the source reference as given and as resolved, and its repository.
type Source struct {
	Repository string `json:"repository"`
	Given      string `json:"given"`
	Resolved   string `json:"resolved"`
}

// Platform is one image manifest of the promoted tree and its config.
type Platform struct {
	// Platform is os/arch[/variant]; empty when the image names none.
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Config   Config `json:"config"`
}

// Config is what a policy may judge of an image config, as the image
// claims it. Env holds the variable names only, and a label value that
// looks like a secret (the noSecretsInEnv gate's rules) is replaced by
// "<redacted: RULE>": the document reaches the ledger and the attestation.
// The entrypoint and command, which may carry secrets as arguments, stay
// out. Created is null when the config has no time.
type Config struct {
	User         string            `json:"user"`
	Labels       map[string]string `json:"labels"`
	Env          []string          `json:"env"`
	Created      *time.Time        `json:"created"`
	ExposedPorts []string          `json:"exposedPorts"`
	WorkingDir   string            `json:"workingDir"`
}

// Attachment is one manifest attached to the digest or a platform image.
type Attachment struct {
	Subject      string `json:"subject"`
	Digest       string `json:"digest"`
	ArtifactType string `json:"artifactType"`
	// Tag is the legacy cosign tag it was found under; empty for a referrer.
	Tag string `json:"tag"`
}

// Verdict is one gate's or release policy's verdict with its evidence.
// When a gate's evidence would be too large to carry, it holds a summary
// and Summarized is true (the ledger record's gates keep it whole).
type Verdict struct {
	Name       string         `json:"name"`
	Verdict    string         `json:"verdict"`
	Reason     string         `json:"reason"`
	Evidence   map[string]any `json:"evidence"`
	Summarized bool           `json:"summarized,omitempty"`
}

// Entry is one ledger record in the digest's history.
type Entry struct {
	ID   string    `json:"id"`
	Seq  int64     `json:"seq"`
	Kind string    `json:"kind"`
	Env  string    `json:"env"`
	Time time.Time `json:"time"`
	Hash string    `json:"hash"`
}
