package promote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/promote-dev/promote/gates"
	"github.com/promote-dev/promote/promote/attest"
	"github.com/promote-dev/promote/sigverify"
)

// ApprovalPredicateType is the predicate type of an approval attestation.
const ApprovalPredicateType = attest.ApprovalPredicateType

// approvalSkew is how far in the future an approval's time may lie (clocks
// differ); one dated later does not count.
const approvalSkew = 5 * time.Minute

// Approval is one approval that counted.
type Approval struct {
	Approver    string `json:"approver"` // as the approver wrote it (asserted)
	Signer      string `json:"signer"`   // who signed it (verified): a key file and ID, or a keyless identity
	Time        string `json:"time,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Attestation string `json:"attestation"` // the attachment manifest it came from
}

// NotCounted is an approval attached to the digest that did not count, and why.
type NotCounted struct {
	Approver    string `json:"approver,omitempty"`
	Signer      string `json:"signer,omitempty"` // empty when the signature did not verify
	Attestation string `json:"attestation"`
	Why         string `json:"why"`
}

// ApprovalTally is how an environment's approvals of one digest count.
type ApprovalTally struct {
	Required   int          `json:"required"`
	Approved   []Approval   `json:"approved"`
	NotCounted []NotCounted `json:"notCounted,omitempty"`
	Missing    int          `json:"missing"`
}

// approvalRules are what an approval must meet to count, besides a
// signature by a listed signer on the digest: the environment it names,
// its age, and not being the promoter's own.
type approvalRules struct {
	env, app string
	now      time.Time
	expires  time.Duration // 0: approvals do not expire
	// promoterKey and promoterAWS are the promoter's own identities: the
	// key ID of its promotion attestations and its AWS caller ARN.
	promoterKey, promoterAWS string
	// identities are the keyless identities the environment lists: each
	// counts once, however many certificate subjects its pattern matches
	// (a workflow pattern is one approver, not one per branch).
	identities []gates.IdentityConfig
}

// approvalPredicate is the part of an approval's predicate that is read.
type approvalPredicate struct {
	Environment string `json:"environment"`
	App         string `json:"app"`
	Approver    string `json:"approver"`
	Reason      string `json:"reason"`
	Time        string `json:"time"`
}

// tally counts verified approval statements (and lists the rejected ones)
// against required: distinct signers, each once, for this environment,
// within expires, none of them the promoter. It does no I/O.
func (ru approvalRules) tally(sts []gates.Statement, rejected []gates.Rejection, required int) ApprovalTally {
	t := ApprovalTally{Required: required, Approved: []Approval{}}
	type cand struct {
		st   gates.Statement
		p    approvalPredicate
		err  error
		when time.Time
	}
	cands := make([]cand, len(sts))
	for i, st := range sts {
		c := cand{st: st}
		if c.err = decodeApproval(st.Predicate, &c.p); c.err == nil && c.p.Time != "" {
			c.when, _ = time.Parse(time.RFC3339, c.p.Time)
		}
		cands[i] = c
	}
	// The earliest approval of a signer is the one that counts.
	slices.SortStableFunc(cands, func(a, b cand) int {
		switch {
		case a.when.IsZero() || b.when.IsZero():
			return compareBool(a.when.IsZero(), b.when.IsZero())
		}
		return a.when.Compare(b.when)
	})
	seen := map[string]bool{}
	for _, c := range cands {
		signer := signerName(c.st)
		why := ru.why(c.st, c.p, c.err, c.when)
		id := ru.signerID(c.st)
		if why == "" && seen[id] {
			why = "a second approval by the same signer: each signer counts once"
		}
		if why != "" {
			t.NotCounted = append(t.NotCounted, NotCounted{Approver: c.p.Approver, Signer: signer, Attestation: c.st.Manifest.String(), Why: why})
			continue
		}
		seen[id] = true
		t.Approved = append(t.Approved, Approval{Approver: c.p.Approver, Signer: signer, Time: c.p.Time, Reason: c.p.Reason, Attestation: c.st.Manifest.String()})
	}
	for _, r := range rejected {
		t.NotCounted = append(t.NotCounted, NotCounted{Attestation: r.Manifest.String(), Why: r.Reason})
	}
	t.Missing = max(0, required-len(t.Approved))
	return t
}

// decodeApproval decodes an approval predicate strictly: encoding/json
// takes the last of duplicate keys and matches keys in any case, where
// another reader of the same signed bytes (a policy engine) may take the
// first or none, so a predicate with a key twice, or in another case, is
// not an approval.
func decodeApproval(raw []byte, p *approvalPredicate) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		folded := strings.ToLower(key)
		switch {
		case seen[folded]:
			return fmt.Errorf("the key %q appears twice (in some case)", key)
		case folded != key && slices.Contains([]string{"environment", "app", "approver", "reason", "time"}, folded):
			return fmt.Errorf("the key %q is not written %q", key, folded)
		}
		seen[folded] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return json.Unmarshal(raw, p)
}

// why says why a verified approval does not count, or "" when it does.
func (ru approvalRules) why(st gates.Statement, p approvalPredicate, perr error, when time.Time) string {
	switch {
	case perr != nil:
		return fmt.Sprintf("its predicate is not an approval: %v", perr)
	case p.Environment != ru.env:
		return fmt.Sprintf("it approves environment %q, not %s", p.Environment, ru.env)
	case p.App == "":
		return fmt.Sprintf("it names no app: an approval is of one app (add \"app\": %q to the predicate)", ru.app)
	case p.App != ru.app:
		return fmt.Sprintf("it approves app %q, not %s", p.App, ru.app)
	case st.KeyID != "" && st.KeyID == ru.promoterKey:
		return "signed with the key of " + ru.env + "'s promotion attestations: the promoter never approves its own promotion"
	case st.KeyID == "" && st.Subject != "" && st.Subject == ru.promoterAWS:
		return "signed by the promoter's own AWS identity: the promoter never approves its own promotion"
	case p.Time != "" && when.IsZero():
		if ru.expires > 0 {
			return fmt.Sprintf("its time %q is not an RFC 3339 time, and approvals expire (after %s)", p.Time, gates.Duration(ru.expires))
		}
		return fmt.Sprintf("its time %q is not an RFC 3339 time", p.Time)
	case p.Time == "" && ru.expires > 0:
		return fmt.Sprintf("it states no time, and approvals expire (after %s): add \"time\" (RFC 3339) to the predicate", gates.Duration(ru.expires))
	case !when.IsZero() && when.After(ru.now.Add(approvalSkew)):
		return fmt.Sprintf("dated %s, in the future", p.Time)
	case ru.expires > 0 && ru.now.Sub(when) > ru.expires:
		return fmt.Sprintf("expired at %s (given %s; approvals expire after %s)",
			when.Add(ru.expires).UTC().Format(time.RFC3339), p.Time, gates.Duration(ru.expires))
	}
	return ""
}

// signerID is who signed, as each is counted once: a key by its ID, a
// keyless signer by the first listed identity that names it (its issuer,
// and a subject its pattern matches), else by its subject and issuer.
func (ru approvalRules) signerID(st gates.Statement) string {
	if st.KeyID != "" {
		return "key " + st.KeyID
	}
	for i, id := range ru.identities {
		re, err := regexp.Compile("^(?:" + id.Subject + ")$")
		if err == nil && id.Issuer == st.Issuer && re.MatchString(st.Subject) {
			return fmt.Sprintf("identities[%d]", i)
		}
	}
	return "identity " + st.Subject + "\x00" + st.Issuer
}

// signerName is how evidence names who signed.
func signerName(st gates.Statement) string {
	if st.KeyID != "" {
		return st.Signer + " (key " + st.KeyID + ")"
	}
	return st.Signer
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// maxNotCountedEvidence bounds the approvals that did not count listed in
// a verdict's evidence (and so in the ledger): junk attached by anyone who
// can push must not swell every record.
const maxNotCountedEvidence = 20

// evidence is the tally as a verdict's evidence.
func (t ApprovalTally) evidence() map[string]any {
	ev := map[string]any{"required": t.Required, "approved": t.Approved, "missing": t.Missing}
	if n := len(t.NotCounted); n > maxNotCountedEvidence {
		ev["notCounted"], ev["notCountedMore"] = t.NotCounted[:maxNotCountedEvidence], n-maxNotCountedEvidence
	} else if n > 0 {
		ev["notCounted"] = t.NotCounted
	}
	return ev
}

// who names the approvals that counted: "alice (keys/alice.pub (key …))".
func (t ApprovalTally) who() string {
	if len(t.Approved) == 0 {
		return "nobody has approved"
	}
	names := make([]string, len(t.Approved))
	for i, a := range t.Approved {
		names[i] = a.Signer
		if a.Approver != "" {
			names[i] = a.Approver + " (" + a.Signer + ")"
		}
	}
	return "approved by " + strings.Join(names, ", ")
}

// notCounted summarises what did not count, at most three, for a reason.
func (t ApprovalTally) notCounted() string {
	if len(t.NotCounted) == 0 {
		return ""
	}
	var parts []string
	for i, n := range t.NotCounted {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(t.NotCounted)-3))
			break
		}
		who := n.Signer
		if who == "" {
			who = sigverify.Short(n.Attestation)
		}
		parts = append(parts, who+": "+n.Why)
	}
	return fmt.Sprintf("; %d did not count (%s)", len(t.NotCounted), strings.Join(parts, "; "))
}
