// Package ledger stores promotion records in hash-chained, append-only chains,
// one chain per app and environment. It stores verdicts as data and never
// talks to registries.
package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/promote-dev/promote/gates/verdict"
)

// MediaType versions the persisted record format.
const MediaType = "application/vnd.promote.record.v1+json"

// Kind says what a record is.
type Kind string

const (
	KindPromotion Kind = "promotion"
	KindRollback  Kind = "rollback"
	KindRejected  Kind = "rejected"
	// The release-control kinds. A freeze or unfreeze is recorded in the
	// chain of AllApps in the environment (AllEnvs with --all) and names
	// no digest; a revocation or unrevocation in the chain of the app in
	// AllEnvs, naming the digest.
	KindFreeze       Kind = "freeze"
	KindUnfreeze     Kind = "unfreeze"
	KindRevocation   Kind = "revocation"
	KindUnrevocation Kind = "unrevocation"
)

// Kinds is every kind a record may have.
var Kinds = []Kind{KindPromotion, KindRollback, KindRejected, KindFreeze, KindUnfreeze, KindRevocation, KindUnrevocation}

// The app and environment names of the release-control chains. Neither is
// a name a configuration may give an app or an environment.
const (
	AllApps = "*"
	AllEnvs = "*"
)

// Control reports whether k is a release-control kind: a record about
// environments or digests, not a run of an app into an environment.
func (k Kind) Control() bool {
	switch k {
	case KindFreeze, KindUnfreeze, KindRevocation, KindUnrevocation:
		return true
	}
	return false
}

// Source is the reference as given on the command line and as resolved.
type Source struct {
	Given    string `json:"given"`
	Resolved string `json:"resolved"`
}

// How an actor's identity was established (Actor's ...Via fields). Only
// ViaAWSSTS is authenticated; the others are asserted by whoever controls
// the environment promote runs in, and any process can set them.
const (
	ViaAWSSTS = "aws-sts" // AWS STS GetCallerIdentity for the credentials that wrote: authenticated
	ViaCIEnv  = "ci-env"  // the CI system's environment variables (GITHUB_ACTOR, ...): asserted
	ViaOSUser = "os-user" // the operating system's account and host name: asserted
)

// Authenticated reports whether an identity established via was
// authenticated rather than only asserted.
func Authenticated(via string) bool { return via == ViaAWSSTS }

// Actor says who promoted: the CI identity where there is one, else user
// and host, and the AWS caller identity where the environment is in ECR.
// Each ...Via field says how the identity before it was established (Via
// constants); a record written before they existed has none, and its
// body, so its hash, is unchanged.
type Actor struct {
	Identity    string `json:"identity,omitempty"`
	IdentityVia string `json:"identityVia,omitempty"` // ViaCIEnv or ViaOSUser
	User        string `json:"user,omitempty"`
	UserVia     string `json:"userVia,omitempty"` // ViaOSUser, for User and Host
	Host        string `json:"host,omitempty"`
	AWS         string `json:"aws,omitempty"`    // the AWS caller identity (ARN) that wrote, where AWS is used
	AWSVia      string `json:"awsVia,omitempty"` // ViaAWSSTS
}

// CI holds what the CI system exposes about the run.
type CI struct {
	Provider string `json:"provider,omitempty"`
	Pipeline string `json:"pipeline,omitempty"`
	Job      string `json:"job,omitempty"`
	Commit   string `json:"commit,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Record is one ledger entry. Seq, PrevHash and Hash are set by Append; the
// caller fills the rest. Hash is the SHA-256 of Body().
type Record struct {
	MediaType  string           `json:"mediaType"`
	ID         string           `json:"id"`
	Seq        int64            `json:"seq"`
	Time       time.Time        `json:"time"`
	Kind       Kind             `json:"kind"`
	App        string           `json:"app"`
	Env        string           `json:"env"`
	From       string           `json:"from,omitempty"`
	Repository string           `json:"repository"`
	Digest     string           `json:"digest"`
	Source     Source           `json:"source"`
	Targets    []string         `json:"targets,omitempty"`
	Tags       []string         `json:"tags,omitempty"`
	Previous   string           `json:"previous,omitempty"`
	Gates      []verdict.Result `json:"gates,omitempty"`
	// Policies are the release policies' verdicts (revocation, freeze,
	// window, soak, approvals) on a promotion, a rollback or a refusal.
	Policies []verdict.Result `json:"policies,omitempty"`
	// BreakGlass is the justification given to pass a window or a freeze
	// where the environment allows it (--break-glass).
	BreakGlass string `json:"breakGlass,omitempty"`
	// Content is, on a revocation, what else it covers: the manifests of
	// the content its digest names and their image configs.
	Content   []string `json:"content,omitempty"`
	Actor     Actor    `json:"actor"`
	CI        *CI      `json:"ci,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Rejection string   `json:"rejection,omitempty"` // why a rejected attempt was refused
	// Evidence is the evidence document (gates/evidence) the policy gates
	// judged and the promotion attestation carries, as JSON; absent where
	// the environment neither judges nor attests it.
	Evidence json.RawMessage `json:"evidence,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash,omitempty"`
}

// Body is the canonical serialisation that Hash covers: the record as JSON
// with Hash left out.
func (r Record) Body() ([]byte, error) {
	r.Hash = ""
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding record %s: %w", r.ID, err)
	}
	return b, nil
}

// HashBody returns "sha256:<hex>" of a record body.
func HashBody(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Head identifies the latest record of a chain; the zero Head is an empty chain.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}
