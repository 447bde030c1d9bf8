package promote

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"

	"github.com/promote-dev/promote/gates"
)

// The counting rules as a table, without a registry: each statement is a
// verified approval as gates.SignatureVerifier.Attestations returns it.
func TestApprovalTally(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	n := 0
	key := func(id, env, when string) gates.Statement {
		n++
		p := fmt.Sprintf(`{"environment": %q, "app": "web", "approver": "%s-%d", "reason": "ok"`, env, id, n)
		if when != "" {
			p += fmt.Sprintf(`, "time": %q`, when)
		}
		return gates.Statement{PredicateType: ApprovalPredicateType, Predicate: []byte(p + "}"), Signer: "keys/" + id + ".pub", KeyID: id,
			Manifest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(fmt.Sprint(n%10), 64)}}
	}
	keyless := func(subject, issuer string) gates.Statement {
		st := key("", "prod", at(0))
		st.KeyID, st.Subject, st.Issuer, st.Signer = "", subject, issuer, subject+" (issuer "+issuer+")"
		return st
	}
	raw := func(p string) gates.Statement {
		st := key("alice", "prod", "")
		st.Predicate = []byte(p)
		return st
	}
	rules := approvalRules{env: "prod", app: "web", now: now, expires: 72 * time.Hour, promoterKey: "promoter", promoterAWS: "arn:aws:sts::222222222222:assumed-role/promoter/ci"}
	workflow := rules
	workflow.identities = []gates.IdentityConfig{{Issuer: "https://token.actions.githubusercontent.com", Subject: "https://github.com/acme/release/.+"}}
	forApp := func(app string) gates.Statement {
		st := key("alice", "prod", at(0))
		st.Predicate = []byte(strings.Replace(string(st.Predicate), `"app": "web"`, app, 1))
		return st
	}
	forever := rules
	forever.expires = 0

	cases := []struct {
		name     string
		rules    approvalRules
		sts      []gates.Statement
		rejected []gates.Rejection
		counted  int
		why      string // of the one that did not count
	}{
		{"two distinct keys", rules, []gates.Statement{key("alice", "prod", at(-time.Hour)), key("bob", "prod", at(0))}, nil, 2, ""},
		{"same key twice counts once", rules, []gates.Statement{key("alice", "prod", at(0)), key("alice", "prod", at(-time.Hour))}, nil, 1, "a second approval by the same signer"},
		{"another environment", rules, []gates.Statement{key("alice", "test", at(0))}, nil, 0, `it approves environment "test", not prod`},
		{"expired", rules, []gates.Statement{key("alice", "prod", at(-73*time.Hour))}, nil, 0, "expired at 2026-11-24T11:00:00Z"},
		{"just within expires", rules, []gates.Statement{key("alice", "prod", at(-72*time.Hour))}, nil, 1, ""},
		{"future-dated", rules, []gates.Statement{key("alice", "prod", at(6*time.Minute))}, nil, 0, "in the future"},
		{"clock skew", rules, []gates.Statement{key("alice", "prod", at(4*time.Minute))}, nil, 1, ""},
		{"future-dated without expires", forever, []gates.Statement{key("alice", "prod", at(time.Hour))}, nil, 0, "in the future"},
		{"no time, expires set", rules, []gates.Statement{key("alice", "prod", "")}, nil, 0, `it states no time, and approvals expire (after 3d): add "time"`},
		{"no time, no expires", forever, []gates.Statement{key("alice", "prod", "")}, nil, 1, ""},
		{"a time that is not RFC 3339", rules, []gates.Statement{key("alice", "prod", "yesterday")}, nil, 0, `its time "yesterday" is not an RFC 3339 time`},
		{"promoter's attestation key", rules, []gates.Statement{key("promoter", "prod", at(0))}, nil, 0, "the promoter never approves its own promotion"},
		{"promoter's AWS identity", rules, []gates.Statement{keyless("arn:aws:sts::222222222222:assumed-role/promoter/ci", "https://sts.amazonaws.com")}, nil, 0, "the promoter's own AWS identity"},
		{"keyless identities count by subject and issuer", rules, []gates.Statement{
			keyless("alice@example.com", "https://accounts.google.com"), keyless("alice@example.com", "https://github.com/login/oauth"),
			keyless("alice@example.com", "https://accounts.google.com")}, nil, 2, "a second approval by the same signer"},
		{"one listed identity counts once, whatever subjects its pattern matches", workflow, []gates.Statement{
			keyless("https://github.com/acme/release/.github/workflows/approve.yml@refs/heads/a", "https://token.actions.githubusercontent.com"),
			keyless("https://github.com/acme/release/.github/workflows/approve.yml@refs/heads/b", "https://token.actions.githubusercontent.com")},
			nil, 1, "a second approval by the same signer"},
		{"another app with the same digest", rules, []gates.Statement{forApp(`"app": "api"`)}, nil, 0, `it approves app "api", not web`},
		{"no app", rules, []gates.Statement{forApp(`"x": 1`)}, nil, 0, `it names no app: an approval is of one app (add "app": "web"`},
		{"a key twice", rules, []gates.Statement{raw(`{"environment":"test","environment":"prod","app":"web"}`)}, nil, 0, `the key "environment" appears twice`},
		{"a key in another case", rules, []gates.Statement{raw(`{"ENVIRONMENT":"prod","app":"web"}`)}, nil, 0, `the key "ENVIRONMENT" is not written "environment"`},
		{"not an approval predicate", rules, []gates.Statement{raw(`["prod"]`)}, nil, 0, "its predicate is not an approval"},
		{"environment of another type", rules, []gates.Statement{raw(`{"environment": 1}`)}, nil, 0, "its predicate is not an approval"},
		{"unknown key", rules, nil, []gates.Rejection{{Reason: "signature does not verify with any key"}}, 0, "signature does not verify with any key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tally := tc.rules.tally(tc.sts, tc.rejected, 2)
			assert.Len(t, tally.Approved, tc.counted)
			assert.Equal(t, max(0, 2-tc.counted), tally.Missing)
			if tc.why == "" {
				assert.Empty(t, tally.NotCounted)
				return
			}
			if assert.Len(t, tally.NotCounted, 1) {
				assert.Contains(t, tally.NotCounted[0].Why, tc.why)
			}
		})
	}
}

// The earliest approval of a signer is the one that counts, whatever order
// the registry lists them in.
func TestApprovalTallyKeepsTheEarliest(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	st := func(approver string, when time.Time) gates.Statement {
		return gates.Statement{Predicate: []byte(fmt.Sprintf(`{"environment":"prod","app":"web","approver":%q,"time":%q}`, approver, when.Format(time.RFC3339))),
			Signer: "keys/alice.pub", KeyID: "alice"}
	}
	tally := approvalRules{env: "prod", app: "web", now: now}.tally([]gates.Statement{st("later", now), st("earlier", now.Add(-time.Hour))}, nil, 1)
	if assert.Len(t, tally.Approved, 1) {
		assert.Equal(t, "earlier", tally.Approved[0].Approver)
		assert.Equal(t, "keys/alice.pub (key alice)", tally.Approved[0].Signer)
	}
	assert.Zero(t, tally.Missing)
}
