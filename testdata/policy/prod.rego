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

# Images run as a named, non-root user.
deny contains msg if {
	some p in doc.platforms
	p.config.user in {"", "0", "root", "0:0", "root:root"}
	msg := sprintf("%s runs as root (user %q)", [p.platform, p.config.user])
}

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

# Built within 90 days of the promotion.
deny contains msg if {
	some p in doc.platforms
	is_string(p.config.created)
	age := time.parse_rfc3339_ns(doc.time) - time.parse_rfc3339_ns(p.config.created)
	age > 90 * 24 * 60 * 60 * 1000000000
	msg := sprintf("%s was built %d days before its promotion (at most 90)", [p.platform, round(age / (24 * 60 * 60 * 1000000000))])
}

# The digest reached prod through test: the ledger shows its promotion there.
deny contains msg if {
	doc.environment == "prod"
	not promoted_to("test")
	msg := "the ledger shows no promotion of this digest to test"
}

# A signature is attached (the signed gate verifies whose it is).
deny contains "no signature or attestation is attached to the digest" if {
	count(doc.attachments) == 0
}

promoted_to(env) if {
	some h in doc.history
	h.env == env
	h.kind == "promotion"
}

# cosign verify-attestation --policy reads data.signature.allow.
default allow := false

allow if count(deny) == 0
