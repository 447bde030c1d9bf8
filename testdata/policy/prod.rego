# prod.rego: one policy, used in two places (docs/policy.md).
#
# 1. promote's policy gate, before an image is copied into prod:
#      - policy: {rego: [testdata/policy/prod.rego], query: data.signature.deny}
#    Its input is the evidence document (application/vnd.promote.evidence.v1+json).
# 2. At admission, on the signed promotion attestation that carries the same
#    document as predicate.evidence:
#      cosign verify-attestation --key promote.pub --insecure-ignore-tlog \
#        --type https://promote.dev/attestation/promotion/v1 \
#        --policy testdata/policy/prod.rego REGISTRY/prod/app@sha256:...
#    cosign evaluates data.signature.allow with the in-toto statement as input.
package signature

import rego.v1

# doc is the evidence document wherever the policy runs.
doc := input.predicate.evidence if input.predicate.evidence

doc := input if not input.predicate

# Nothing to judge is a refusal: an attestation made before promote carried
# the document, or a document of another version.
deny contains "no promote evidence document (application/vnd.promote.evidence.v1+json) to judge" if {
	not doc.mediaType == "application/vnd.promote.evidence.v1+json"
}

# Images run as a named, non-root user (uid 0 in any spelling is root).
deny contains msg if {
	some p in doc.platforms
	is_root(p.config.user)
	msg := sprintf("%s runs as root (user %q)", [p.platform, p.config.user])
}

is_root(user) if user == ""

is_root(user) if regex.match(`^(0+|root)(:.*)?$`, user)

# Every image says where its source is.
deny contains msg if {
	some p in doc.platforms
	not p.config.labels["org.opencontainers.image.source"]
	msg := sprintf("%s has no org.opencontainers.image.source label", [p.platform])
}

# No variable whose name says it holds a secret.
deny contains msg if {
	some p in doc.platforms
	some name in p.config.env
	regex.match(`(?i)(password|passwd|secret|token|api_?key)`, name)
	msg := sprintf("%s sets %s in its config: pass secrets at run time", [p.platform, name])
}

# Built within 90 days before the promotion, as the image claims: no time,
# or a time after the promotion, proves no age.
deny contains msg if {
	some p in doc.platforms
	not is_string(p.config.created)
	msg := sprintf("%s says not when it was built", [p.platform])
}

deny contains msg if {
	some p in doc.platforms
	is_string(p.config.created)
	age := time.parse_rfc3339_ns(doc.time) - time.parse_rfc3339_ns(p.config.created)
	not age_within(age)
	msg := sprintf("%s was built %d days before its promotion (0 to 90)", [p.platform, round(age / day)])
}

day := ((24 * 60) * 60) * 1000000000

age_within(age) if {
	age >= 0
	age <= 90 * day
}

# The digest reached prod through test: the ledger shows its promotion there.
deny contains msg if {
	doc.environment == "prod"
	not promoted_to("test")
	msg := "the ledger shows no promotion of this digest to test"
}

promoted_to(env) if {
	some h in doc.history
	h.env == env
	h.kind == "promotion"
}

# The signed gate verified a signature (attachments alone are only found).
deny contains "the signed gate did not pass this digest" if {
	not gate_passed("signed")
}

gate_passed(name) if {
	some g in doc.gates
	g.name == name
	g.verdict == "pass"
}

# Evidence too large to carry whole is summarised: rules reading it would
# miss what it held.
deny contains msg if {
	some g in doc.gates
	g.summarized
	msg := sprintf("the %s gate's evidence was summarised: judge it from the ledger record", [g.name])
}

# cosign verify-attestation --policy reads data.signature.allow.
default allow := false

allow if count(deny) == 0
